/// The Swift runtime's shortest round-trip formatter, the one behind
/// `Double.description` (exported by libswiftCore since Swift 4.2). Calling it
/// directly writes into our buffer instead of allocating a String per number.
@_silgen_name("swift_float64ToString")
func swift_float64ToString(
    _ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Double, _ debug: Bool
) -> UInt64

/// Writes JSON values as compact or pretty (two-space indented) UTF-8 text.
///
/// Doubles are written in their shortest round-trip form (Swift's
/// `description`), so a client parsing them gets the identical double back.
/// Non-finite numbers cannot be written: the wire layer never produces them.
public struct JSONWriter {
    public var pretty: Bool
    private(set) var bytes: [UInt8] = []

    public init(pretty: Bool = false) {
        self.pretty = pretty
    }

    /// The whole value as UTF-8 bytes, with a final newline when pretty.
    public static func encode(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty)
        writer.bytes.reserveCapacity(256)
        writer.write(value, indent: 0)
        if pretty { writer.bytes.append(UInt8(ascii: "\n")) }
        return writer.bytes
    }

    private mutating func newline(_ indent: Int) {
        guard pretty else { return }
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * 2))
    }

    private mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): writeNumber(number)
        case .unsigned(let number): bytes.append(contentsOf: String(number).utf8)
        case .string(let string): writeString(string)
        case .numbers(let numbers):
            bytes.reserveCapacity(bytes.count + numbers.count * 24)
            writeArray(count: numbers.count, indent: indent, inline: true) { writer, i in
                writer.writeNumber(numbers[i])
            }
        case .array(let values):
            writeArray(count: values.count, indent: indent, inline: false) { writer, i in
                writer.write(values[i], indent: indent + 1)
            }
        case .object(let fields):
            if fields.isEmpty {
                bytes.append(contentsOf: "{}".utf8)
                return
            }
            bytes.append(UInt8(ascii: "{"))
            for (i, field) in fields.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                writeString(field.key)
                bytes.append(UInt8(ascii: ":"))
                if pretty { bytes.append(UInt8(ascii: " ")) }
                write(field.value, indent: indent + 1)
            }
            newline(indent)
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Arrays of numbers stay on one line when pretty; other arrays put one element a line.
    private mutating func writeArray(
        count: Int, indent: Int, inline: Bool, element: (inout JSONWriter, Int) -> Void
    ) {
        bytes.append(UInt8(ascii: "["))
        for i in 0..<count {
            if i > 0 {
                bytes.append(UInt8(ascii: ","))
                if pretty && inline { bytes.append(UInt8(ascii: " ")) }
            }
            if !inline { newline(indent + 1) }
            element(&self, i)
        }
        if !inline && count > 0 { newline(indent) }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Integral values below 1e15 print as integers (2, not 2.0); others in the
    /// shortest form that reads back as the same double, as `description` prints
    /// them, but written straight into the output without a String per number.
    private mutating func writeNumber(_ number: Double) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { buffer in
            let count: Int
            if number == number.rounded(.towardZero), abs(number) < 1e15 {
                count = Self.formatInteger(number, into: buffer)
            } else {
                // The formatter leaves the padding zeros of fixed notation (1000000000000000.0)
                // unwritten, as its caller in the standard library fills the buffer with '0'.
                buffer.initialize(repeating: UInt8(ascii: "0"))
                count = Int(swift_float64ToString(buffer.baseAddress!, 40, number, false))
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    private static func formatInteger(_ number: Double, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var value = Int64(number).magnitude
        var digits = 0
        var reversed: (UInt64, UInt64) = (0, 0)  // up to 16 digits, four bits each
        repeat {
            let digit = value % 10
            value /= 10
            if digits < 16 { reversed.0 |= digit << (4 * digits) } else { reversed.1 |= digit << (4 * (digits - 16)) }
            digits += 1
        } while value > 0
        var count = 0
        if number.sign == .minus {
            buffer[0] = UInt8(ascii: "-")
            count = 1
        }
        for position in stride(from: digits - 1, through: 0, by: -1) {
            let digit = position < 16 ? (reversed.0 >> (4 * position)) & 0xF : (reversed.1 >> (4 * (position - 16))) & 0xF
            buffer[count] = UInt8(ascii: "0") + UInt8(digit)
            count += 1
        }
        return count
    }

    private mutating func writeString(_ string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
            case 0x0A: bytes.append(contentsOf: "\\n".utf8)
            case 0x0D: bytes.append(contentsOf: "\\r".utf8)
            case 0x09: bytes.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
