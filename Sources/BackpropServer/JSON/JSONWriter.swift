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

    private mutating func writeNumber(_ number: Double) {
        if number.isFinite, number == number.rounded(), abs(number) < 1e15 {
            // Integral values print without a fraction: 2 rather than 2.0.
            bytes.append(contentsOf: String(Int64(number)).utf8)
            if number == 0, number.sign == .minus { bytes.insert(UInt8(ascii: "-"), at: bytes.count - 1) }
        } else {
            bytes.append(contentsOf: number.description.utf8)
        }
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
