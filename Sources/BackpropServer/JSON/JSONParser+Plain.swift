/// The plain forms a lean reader accepts (`GradientLane`): keys and strings without
/// escapes, and numbers, arrays of numbers and arrays of equally long arrays of
/// numbers read straight into a caller's buffer. Each returns nil (or false) on
/// anything else, leaving the caller to read the body the general way.
extension JSONParser {
    /// Numbers as they stand in the caller's buffer: a number, a vector or a matrix.
    struct PlainTensor {
        var kind: Tensor.Kind
        /// Where the numbers start in the buffer, row-major.
        var start: Int
        var rows: Int
        var columns: Int
        var count: Int { rows * columns }
    }

    /// Skips whitespace, then reads `byte` if it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard current == byte else { return false }
        index += 1
        return true
    }

    /// A string with no escape, as its bytes between the quotes.
    mutating func plainString() -> UnsafeBufferPointer<UInt8>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while let byte = current, byte != UInt8(ascii: "\"") {
            guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { return nil }
            index += 1
        }
        guard current != nil else { return nil }
        index += 1
        return UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)])
    }

    /// A plain key and the colon after it.
    mutating func plainKey() -> UnsafeBufferPointer<UInt8>? {
        guard let key = plainString(), take(UInt8(ascii: ":")) else { return nil }
        return key
    }

    /// The value of `T` whose raw value is the next plain string.
    mutating func plainName<T: RawRepresentable & CaseIterable>(_: T.Type) -> T? where T.RawValue == String {
        guard let text = plainString() else { return nil }
        return T.allCases.first { $0.rawValue.utf8.elementsEqual(text) }
    }

    /// One finite number, appended to `numbers` at `count`.
    mutating func plainNumber(into numbers: UnsafeMutableBufferPointer<Double>, count: inout Int) -> Bool {
        skipWhitespace()
        guard count < numbers.count, let value = try? parseNumber().doubleValue, value.isFinite else { return false }
        numbers[count] = value
        count += 1
        return true
    }

    /// A number, an array of at least one number, or an array of at least one array of
    /// equally many numbers (at least one), appended to `numbers` at `count`.
    mutating func plainTensor(into numbers: UnsafeMutableBufferPointer<Double>, count: inout Int) -> PlainTensor? {
        let start = count
        guard take(UInt8(ascii: "[")) else {
            return plainNumber(into: numbers, count: &count) ? PlainTensor(kind: .scalar, start: start, rows: 1, columns: 1) : nil
        }
        skipWhitespace()
        guard current == UInt8(ascii: "[") else {
            guard let columns = plainRow(into: numbers, count: &count) else { return nil }
            return PlainTensor(kind: .vector, start: start, rows: 1, columns: columns)
        }
        var rows = 0, columns = 0
        repeat {
            guard take(UInt8(ascii: "[")), let width = plainRow(into: numbers, count: &count), rows == 0 || width == columns
            else { return nil }
            columns = width
            rows += 1
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "]")) else { return nil }
        return PlainTensor(kind: .matrix, start: start, rows: rows, columns: columns)
    }

    /// Numbers up to and including the closing bracket (the opening one already read):
    /// how many, at least one.
    private mutating func plainRow(into numbers: UnsafeMutableBufferPointer<Double>, count: inout Int) -> Int? {
        var width = 0
        repeat {
            guard plainNumber(into: numbers, count: &count) else { return nil }
            width += 1
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? width : nil
    }
}
