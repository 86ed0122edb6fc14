/// Appends numbers to a byte array in little-endian order: the writer of the
/// checkpoint format (see `TrainingCheckpoint+Encoding.swift`).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func write(_ value: UInt8) { bytes.append(value) }

    mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// As a two's-complement 64-bit integer.
    mutating func write(_ value: Int) { write(UInt64(bitPattern: Int64(value))) }

    /// The exact bits: every double, NaN payloads and −0 included, reads back the same.
    mutating func write(_ value: Double) { write(value.bitPattern) }

    /// A length (bytes of UTF-8), then the bytes.
    mutating func write(_ value: String) {
        write(value.utf8.count)
        bytes.append(contentsOf: value.utf8)
    }

    /// A count, then the doubles.
    mutating func write(_ values: [Double]) {
        write(values.count)
        #if _endian(little)
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
            for value in values { write(value) }
        #endif
    }

    /// A count, then the integers.
    mutating func write(_ values: [Int]) {
        write(values.count)
        #if _endian(little) && _pointerBitWidth(_64)
            values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
            for value in values { write(value) }
        #endif
    }

    /// A presence byte, then the value if there is one.
    mutating func write(_ value: Double?) {
        write(value != nil)
        if let value { write(value) }
    }

    mutating func write(_ value: Int?) {
        write(value != nil)
        if let value { write(value) }
    }

    mutating func write(_ values: [Double]?) {
        write(values != nil)
        if let values { write(values) }
    }
}
