/// The Swift runtime's shortest round-trip formatter, the one behind
/// `Double.description` (exported by libswiftCore since Swift 4.2). Calling it
/// directly writes into our buffer instead of allocating a String per number.
@_silgen_name("swift_float64ToString")
func swift_float64ToString(
    _ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Double, _ debug: Bool
) -> UInt64

/// Writes JSON values as compact or pretty (two-space indented) UTF-8 text.
///
/// Doubles are written in their shortest round-trip form, so a client parsing
/// them gets the identical double back. Output goes into one growing raw buffer:
/// no allocation per value. Non-finite numbers cannot be written: the wire layer
/// never produces them (ComputeController checks).
public struct JSONWriter: ~Copyable {
    public let pretty: Bool
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int

    public init(pretty: Bool = false, capacity: Int = 256) {
        self.pretty = pretty
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// The whole value as UTF-8 bytes, with a final newline when pretty.
    public static func encode(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var writer = JSONWriter(pretty: pretty)
        writer.write(value, indent: 0)
        if pretty { writer.byte(UInt8(ascii: "\n")) }
        return Array(UnsafeBufferPointer(start: writer.base, count: writer.count))
    }

    /// Room for `extra` more bytes.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let newCapacity = max(capacity * 2, count + extra)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }

    @inline(__always)
    private mutating func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    private mutating func text(_ string: StaticString) {
        reserve(string.utf8CodeUnitCount)
        (base + count).update(from: string.utf8Start, count: string.utf8CodeUnitCount)
        count += string.utf8CodeUnitCount
    }

    private mutating func newline(_ indent: Int) {
        guard pretty else { return }
        reserve(1 + indent * 2)
        base[count] = UInt8(ascii: "\n")
        (base + count + 1).initialize(repeating: UInt8(ascii: " "), count: indent * 2)
        count += 1 + indent * 2
    }

    private mutating func write(_ value: JSONValue, indent: Int) {
        switch value {
        case .null: text("null")
        case .bool(let flag): flag ? text("true") : text("false")
        case .number(let number): writeNumber(number)
        case .unsigned(let number): writeUnsigned(number)
        case .string(let string): writeString(string)
        case .numbers(let numbers):
            // Arrays of numbers stay on one line when pretty.
            reserve(numbers.count * 26 + 2)
            byte(UInt8(ascii: "["))
            for (i, number) in numbers.enumerated() {
                if i > 0 {
                    byte(UInt8(ascii: ","))
                    if pretty { byte(UInt8(ascii: " ")) }
                }
                writeNumber(number)
            }
            byte(UInt8(ascii: "]"))
        case .array(let values):
            byte(UInt8(ascii: "["))
            for (i, element) in values.enumerated() {
                if i > 0 { byte(UInt8(ascii: ",")) }
                newline(indent + 1)
                write(element, indent: indent + 1)
            }
            if !values.isEmpty { newline(indent) }
            byte(UInt8(ascii: "]"))
        case .object(let fields):
            byte(UInt8(ascii: "{"))
            for (i, field) in fields.enumerated() {
                if i > 0 { byte(UInt8(ascii: ",")) }
                newline(indent + 1)
                writeString(field.key)
                byte(UInt8(ascii: ":"))
                if pretty { byte(UInt8(ascii: " ")) }
                write(field.value, indent: indent + 1)
            }
            if !fields.isEmpty { newline(indent) }
            byte(UInt8(ascii: "}"))
        }
    }

    /// Integral values below 1e15 print as integers (2, not 2.0); the rest in the
    /// shortest form that reads back as the same double, as `description` prints them.
    @inline(__always)
    private mutating func writeNumber(_ number: Double) {
        reserve(40)
        if number == number.rounded(.towardZero), abs(number) < 1e15 {
            if number.sign == .minus { byte(UInt8(ascii: "-")) }
            writeUnsigned(UInt64(number.magnitude))
        } else {
            // The formatter leaves the padding zeros of fixed notation (1000000000000000.0)
            // unwritten, as its caller in the standard library fills the buffer with '0'.
            (base + count).initialize(repeating: UInt8(ascii: "0"), count: 32)
            count += Int(swift_float64ToString(base + count, 32, number, false))
        }
    }

    private mutating func writeUnsigned(_ number: UInt64) {
        reserve(20)
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // scratch for up to 20 digits
        let written = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var value = number, n = 0
            repeat {
                scratch[19 - n] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                n += 1
            } while value > 0
            (base + count).update(from: scratch.baseAddress!.assumingMemoryBound(to: UInt8.self) + 20 - n, count: n)
            return n
        }
        count += written
    }

    private mutating func writeString(_ string: String) {
        byte(UInt8(ascii: "\""))
        for unit in string.utf8 {
            switch unit {
            case UInt8(ascii: "\""): text("\\\"")
            case UInt8(ascii: "\\"): text("\\\\")
            case 0x0A: text("\\n")
            case 0x0D: text("\\r")
            case 0x09: text("\\t")
            case 0..<0x20:
                text("\\u00")
                let hex: StaticString = "0123456789abcdef"
                byte(hex.utf8Start[Int(unit >> 4)])
                byte(hex.utf8Start[Int(unit & 0xF)])
            default: byte(unit)
            }
        }
        byte(UInt8(ascii: "\""))
    }
}
