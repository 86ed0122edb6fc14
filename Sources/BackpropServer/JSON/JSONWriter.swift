import CBackpropJSON
import NIOCore

#if os(Linux)
import Glibc
#endif

/// Writes JSON values as compact or pretty (two-space indented) UTF-8 text.
///
/// Doubles are written in their shortest round-trip form, so a client parsing
/// them gets the identical double back. `encode` first bounds the text's size
/// (every number takes at most 24 bytes), then writes straight into the array or
/// byte buffer it returns: no allocation per value, no regrowth, no final copy. If
/// the bound were ever short, the writer moves to memory of its own and the text
/// is copied once. Non-finite numbers cannot be written: the wire layer never
/// produces them (ComputeController checks).
public struct JSONWriter: ~Copyable {
    public let pretty: Bool
    private var base: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    /// False while writing into the caller's memory.
    private var owned: Bool

    init(pretty: Bool, into memory: UnsafeMutableRawBufferPointer) {
        self.pretty = pretty
        base = memory.baseAddress!.bindMemory(to: UInt8.self, capacity: memory.count)
        capacity = memory.count
        owned = false
    }

    deinit { if owned { base.deallocate() } }

    /// The whole value as UTF-8 bytes, with a final newline when pretty.
    public static func encode(_ value: JSONValue, pretty: Bool = false) -> [UInt8] {
        var spilled: [UInt8]? = nil
        let bytes = [UInt8](unsafeUninitializedCapacity: sizeBound(value, pretty: pretty)) { memory, written in
            var writer = JSONWriter(pretty: pretty, into: UnsafeMutableRawBufferPointer(memory))
            writer.writeDocument(value)
            written = writer.owned ? 0 : writer.count
            if writer.owned { spilled = writer.bytes }
        }
        return spilled ?? bytes
    }

    /// Appends the whole value to `buffer`, as `encode` writes it.
    public static func encode(_ value: JSONValue, pretty: Bool = false, into buffer: inout ByteBuffer) {
        write(into: &buffer, bound: sizeBound(value, pretty: pretty), pretty: pretty) { $0.writeDocument(value) }
    }

    /// Appends what `body` writes to `buffer`, in room for `bound` bytes made there
    /// first (more is still written right, through a copy).
    static func write(into buffer: inout ByteBuffer, bound: Int, pretty: Bool, _ body: (inout JSONWriter) -> Void) {
        var spilled: [UInt8]? = nil
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { memory in
            adviseHugePages(memory)
            var writer = JSONWriter(pretty: pretty, into: memory)
            body(&writer)
            if writer.owned { spilled = writer.bytes }
            return writer.owned ? 0 : writer.count
        }
        if let spilled { buffer.writeBytes(spilled) }
    }

    /// Asks Linux to back a large, still untouched buffer with 2 MiB pages: writing
    /// 20 MB then takes ten page faults rather than five thousand, which cost a
    /// quarter of the encoding time here. Only advice: if the kernel declines
    /// (transparent huge pages off), nothing changes.
    private static func adviseHugePages(_ memory: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        let hugePage = 2 << 20
        guard let start = memory.baseAddress, memory.count >= 4 * hugePage else { return }
        let first = (Int(bitPattern: start) + hugePage - 1) & ~(hugePage - 1)
        let end = (Int(bitPattern: start) + memory.count) & ~(hugePage - 1)
        guard end > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
        _ = madvise(aligned, end - first, MADV_HUGEPAGE)
        #endif
    }

    /// At least the bytes `encode` writes for `value`, with room to spare for the
    /// number formatter's 32-byte scratch at the end.
    static func sizeBound(_ value: JSONValue, pretty: Bool) -> Int {
        bound(value, pretty: pretty, indent: 0) + 1 + 32
    }

    private static func bound(_ value: JSONValue, pretty: Bool, indent: Int) -> Int {
        // A separator before an element or field, and the closing line break.
        let separator = pretty ? 2 + 2 * (indent + 1) : 1, closing = pretty ? 1 + 2 * indent : 0
        switch value {
        case .null, .bool: return 5
        case .number: return 24  // "-1.2345678901234567e-308"
        case .unsigned: return 20
        case .string(let string): return 2 + 6 * string.utf8.count  // each byte at worst "\u00XX"
        case .numbers(let numbers): return 2 + numbers.count * 26  // bp_format_json_numbers: 26 each
        case .matrix(let columns, let storage):
            return 2 + closing + (storage.count / columns) * (separator + 2 + columns * 26)
        case .array(let values):
            return values.reduce(2 + closing) { $0 + separator + bound($1, pretty: pretty, indent: indent + 1) }
        case .object(let fields):
            return fields.reduce(2 + closing) { total, field in
                total + separator + 2 + 6 * field.key.utf8.count + 2
                    + bound(field.value, pretty: pretty, indent: indent + 1)
            }
        }
    }

    private mutating func writeDocument(_ value: JSONValue) {
        write(value, indent: 0)
        if pretty { byte(UInt8(ascii: "\n")) }
    }

    /// The text so far, copied.
    private var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }

    /// Room for `extra` more bytes; past the capacity, memory of the writer's own.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let newCapacity = max(capacity * 2, count + extra)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        if owned { base.deallocate() }
        base = grown
        capacity = newCapacity
        owned = true
    }

    @inline(__always)
    mutating func byte(_ value: UInt8) {
        reserve(1)
        base[count] = value
        count += 1
    }

    mutating func text(_ string: StaticString) {
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
            numbers.withUnsafeBufferPointer { writeNumbers($0) }
        case .matrix(let columns, let storage):
            storage.withUnsafeBufferPointer { writeRows($0, columns: columns, indent: indent) }
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

    /// `values`, row-major, as an array of rows `columns` wide, each an array of numbers.
    mutating func writeRows(_ values: UnsafeBufferPointer<Double>, columns: Int, indent: Int) {
        byte(UInt8(ascii: "["))
        for (i, start) in stride(from: 0, to: values.count, by: columns).enumerated() {
            if i > 0 { byte(UInt8(ascii: ",")) }
            newline(indent + 1)
            writeNumbers(UnsafeBufferPointer(rebasing: values[start..<(start + columns)]))
        }
        newline(indent)
        byte(UInt8(ascii: "]"))
    }

    /// An array of numbers, on one line even when pretty: one C loop writes them.
    mutating func writeNumbers(_ values: UnsafeBufferPointer<Double>) {
        byte(UInt8(ascii: "["))
        reserve(values.count * 26 + 32)
        count += (base + count).withMemoryRebound(to: CChar.self, capacity: values.count * 26 + 32) {
            bp_format_json_numbers(values.baseAddress, values.count, pretty ? 1 : 0, $0)
        }
        byte(UInt8(ascii: "]"))
    }

    /// Integral values below 1e15 print as integers (2, not 2.0); the rest in the
    /// shortest form that reads back as the same double, as `description` prints
    /// them (Schubfach, in C: CBackpropJSON/dtoa.c).
    @inline(__always)
    mutating func writeNumber(_ number: Double) {
        reserve(32)
        count += (base + count).withMemoryRebound(to: CChar.self, capacity: 32) {
            Int(bp_format_json_number(number, $0))
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
