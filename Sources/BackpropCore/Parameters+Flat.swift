/// The parameters as one flat list of numbers, for checkpoints.
extension Parameters {
    /// The number of weights and biases.
    var count: Int { tensors.reduce(0) { $0 + $1.buffer.count } }

    /// Every number, tensor after tensor in `tensors` order.
    var flat: [Double] {
        var result: [Double] = []
        result.reserveCapacity(count)
        for tensor in tensors {
            result.append(contentsOf: UnsafeBufferPointer(start: tensor.buffer.pointer, count: tensor.buffer.count))
        }
        return result
    }

    /// Overwrites every number with `values`, in `flat`'s order; `values.count`
    /// must be `count` (checked by whoever built `values`).
    func load(_ values: [Double]) {
        precondition(values.count == count, "a flat parameter list of the wrong length")
        values.withUnsafeBufferPointer { source in
            var offset = 0
            for tensor in tensors {
                tensor.buffer.pointer.update(from: source.baseAddress! + offset, count: tensor.buffer.count)
                offset += tensor.buffer.count
            }
        }
    }
}
