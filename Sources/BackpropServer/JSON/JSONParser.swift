import Foundation

/// A syntax error in a JSON document, with its 1-based line and column.
public struct JSONSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public var line: Int
    public var column: Int
}

/// A strict RFC 8259 parser over UTF-8 bytes.
///
/// It rejects what JSON does not allow (trailing commas, NaN, comments, leading
/// zeros, invalid UTF-8, control characters in strings), limits nesting to
/// `maximumDepth` so a hostile document cannot exhaust the stack, and reads
/// arrays of numbers straight into `[Double]`.
public struct JSONParser {
    public static let maximumDepth = 512
    /// Objects with more keys than this check for duplicates with a set.
    static let setThreshold = 16

    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    /// Where arrays gather their numbers while they are read (`parseArray`).
    var scratch: [Double] = []

    /// Parses one JSON document (surrounding white space allowed).
    public static func parse<Bytes: Collection<UInt8>>(_ input: Bytes) throws(JSONSyntaxError) -> JSONValue {
        let contiguous = input.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in try parse(buffer: buffer) }
        }
        let result = contiguous ?? Array(input).withUnsafeBufferPointer { buffer in
            Result { () throws(JSONSyntaxError) -> JSONValue in try parse(buffer: buffer) }
        }
        return try result.get()
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: buffer)
        parser.skipWhitespace()
        guard parser.index < buffer.count else { throw parser.error("the body is empty: expected a JSON value") }
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.index == buffer.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    func error(_ message: String, at position: Int? = nil) -> JSONSyntaxError {
        let end = min(position ?? index, bytes.count)
        var line = 1, lineStart = 0
        for i in 0..<end where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return JSONSyntaxError(message: message, line: line, column: end - lineStart + 1)
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard let byte = current else { throw error("unexpected end of input: expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character '\(printable(byte))': expected a value")
        }
    }

    private func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : String(format: "\\x%02X", byte)
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for offset in 0..<count {
            guard index + offset < bytes.count, bytes[index + offset] == start[offset] else {
                throw error("invalid literal: expected '\(literal)'", at: index + offset)
            }
        }
        index += count
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw error("nesting is deeper than \(Self.maximumDepth) levels")
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            index += 1
            return .numbers([])
        }
        // An array's numbers gather at the end of `scratch`, shared by every array of
        // the document, and are copied out once, into an array of exactly their count:
        // no regrowth per array. Nested arrays gather above their parent's numbers.
        let first = scratch.count
        defer { scratch.removeSubrange(first...) }
        if current == UInt8(ascii: "["), let matrix = try parseMatrix() { return matrix }
        var values: [JSONValue]? = nil
        while true {
            skipWhitespace()
            let value = try parseValue()
            if values == nil, let number = value.doubleValue {
                scratch.append(number)
            } else {
                if values == nil { values = scratch[first...].map(JSONValue.number) }
                values!.append(value)
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return values.map(JSONValue.array) ?? .numbers(Array(scratch[first...]))
            case nil: throw error("unexpected end of input: expected ',' or ']' in an array")
            case let byte?: throw error("unexpected character '\(printable(byte))': expected ',' or ']' in an array")
            }
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1
        var fields: [(key: String, value: JSONValue)] = []
        // Duplicate keys are refused. A request's objects have a handful of keys, for
        // which comparing with each is cheaper than hashing into a set (and allocating
        // it); past `setThreshold` keys a set keeps the check linear.
        var keys: Set<String>? = nil
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            index += 1
            return .object(fields)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key in an object") }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after an object key") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            let duplicate: Bool
            if keys == nil, fields.count < Self.setThreshold {
                duplicate = fields.contains { $0.key == key }
            } else {
                if keys == nil { keys = Set(fields.map(\.key)) }
                duplicate = !keys!.insert(key).inserted
            }
            if duplicate {
                throw error("duplicate key \"\(key)\" in an object")
            }
            fields.append((key, value))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return .object(fields)
            case nil: throw error("unexpected end of input: expected ',' or '}' in an object")
            case let byte?: throw error("unexpected character '\(printable(byte))': expected ',' or '}' in an object")
            }
        }
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = index
        index += 1
        var scalars: [UInt8] = []
        var segmentStart = index
        while true {
            guard let byte = current else { throw error("unterminated string", at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                let string: String?
                if scalars.isEmpty {
                    // No escape: straight from the input, without a copy in between.
                    string = String(validating: UnsafeBufferPointer(rebasing: bytes[segmentStart..<index]), as: UTF8.self)
                } else {
                    scalars.append(contentsOf: bytes[segmentStart..<index])
                    string = String(validating: scalars, as: UTF8.self)
                }
                index += 1
                guard let string else {
                    throw error("the string is not valid UTF-8", at: start)
                }
                return string
            case UInt8(ascii: "\\"):
                scalars.append(contentsOf: bytes[segmentStart..<index])
                try parseEscape(into: &scalars)
                segmentStart = index
            case 0..<0x20:
                throw error("control character in a string: escape it")
            default:
                index += 1
            }
        }
    }

    private mutating func parseEscape(into output: inout [UInt8]) throws(JSONSyntaxError) {
        index += 1
        guard let byte = current else { throw error("unterminated escape") }
        index += 1
        let simple: UInt8? =
            switch byte {
            case UInt8(ascii: "\""): 0x22
            case UInt8(ascii: "\\"): 0x5C
            case UInt8(ascii: "/"): 0x2F
            case UInt8(ascii: "b"): 0x08
            case UInt8(ascii: "f"): 0x0C
            case UInt8(ascii: "n"): 0x0A
            case UInt8(ascii: "r"): 0x0D
            case UInt8(ascii: "t"): 0x09
            default: nil
            }
        if let simple {
            output.append(simple)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw error("invalid escape '\\\(printable(byte))'", at: index - 1) }
        var code = try parseHex4()
        if (0xD800..<0xDC00).contains(code) {
            guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("unpaired surrogate in a \\u escape")
            }
            index += 2
            let low = try parseHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a \\u escape") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(code) {
            throw error("unpaired surrogate in a \\u escape")
        }
        output.append(contentsOf: Array(String(UnicodeScalar(code)!).utf8))
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current, let digit = hexValue(byte) else { throw error("invalid \\u escape: expected 4 hex digits") }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
