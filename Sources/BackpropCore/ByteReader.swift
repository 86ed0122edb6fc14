/// Reads what `ByteWriter` wrote, checking every length against the bytes left,
/// so a truncated or corrupt input throws instead of trapping or allocating wildly.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset == bytes.count }

    static func malformed(_ what: String) -> CoreError {
        CoreError(.invalidValue, "the checkpoint is malformed: \(what)")
    }

    /// Takes the next `count` bytes; throws if fewer are left.
    private mutating func take(_ count: Int) throws(CoreError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= bytes.count - offset else {
            throw CoreError(.invalidValue, "the checkpoint is truncated")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func readByte() throws(CoreError) -> UInt8 { try take(1).first! }

    mutating func readBool() throws(CoreError) -> Bool {
        switch try readByte() {
        case 0: return false
        case 1: return true
        default: throw Self.malformed("a flag is neither 0 nor 1")
        }
    }

    mutating func readUInt64() throws(CoreError) -> UInt64 {
        var value: UInt64 = 0
        for (shift, byte) in try take(8).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
        return value
    }

    mutating func readInt() throws(CoreError) -> Int {
        guard let value = Int(exactly: Int64(bitPattern: try readUInt64())) else {
            throw Self.malformed("an integer is out of range")
        }
        return value
    }

    mutating func readDouble() throws(CoreError) -> Double { Double(bitPattern: try readUInt64()) }

    /// A count of elements of `size` bytes each, no more than the bytes left hold.
    private mutating func readCount(size: Int) throws(CoreError) -> Int {
        let count = try readInt()
        guard count >= 0, count <= (bytes.count - offset) / size else {
            throw CoreError(.invalidValue, "the checkpoint is truncated")
        }
        return count
    }

    mutating func readString() throws(CoreError) -> String {
        let count = try readCount(size: 1)
        guard let string = String(validating: try take(count), as: UTF8.self) else {
            throw Self.malformed("a name is not UTF-8")
        }
        return string
    }

    mutating func readDoubles() throws(CoreError) -> [Double] {
        let count = try readCount(size: 8)
        let slice = try take(8 * count)
        #if _endian(little)
            return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
                slice.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
                initialized = count
            }
        #else
            var values: [Double] = []
            values.reserveCapacity(count)
            var reader = ByteReader(Array(slice))
            for _ in 0..<count { values.append(try reader.readDouble()) }
            return values
        #endif
    }

    mutating func readInts() throws(CoreError) -> [Int] {
        let count = try readCount(size: 8)
        var values: [Int] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(try readInt()) }
        return values
    }

    mutating func readOptionalDouble() throws(CoreError) -> Double? {
        try readBool() ? try readDouble() : nil
    }

    mutating func readOptionalInt() throws(CoreError) -> Int? {
        try readBool() ? try readInt() : nil
    }

    mutating func readOptionalDoubles() throws(CoreError) -> [Double]? {
        try readBool() ? try readDoubles() : nil
    }
}
