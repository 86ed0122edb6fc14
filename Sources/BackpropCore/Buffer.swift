/// A block of doubles allocated once and freed with its owner.
///
/// The training loop works on raw pointers into these, so nothing in it allocates.
/// Not shared across threads: each computation owns its buffers.
final class Buffer {
    let pointer: UnsafeMutablePointer<Double>
    let count: Int

    init(count: Int, repeating value: Double = 0) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
    }

    convenience init(_ values: [Double]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: count) }
        }
    }

    deinit { pointer.deallocate() }

    var array: [Double] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// The doubles, to read or fill in place.
    var mutableBuffer: UnsafeMutableBufferPointer<Double> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    func copy(from other: Buffer) { pointer.update(from: other.pointer, count: count) }

    var isFinite: Bool {
        var probe = 0.0
        for i in 0..<count { probe += pointer[i] * 0 }
        return probe == 0
    }
}
