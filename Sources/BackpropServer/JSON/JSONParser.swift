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

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

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

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private func error(_ message: String, at position: Int? = nil) -> JSONSyntaxError {
        let end = min(position ?? index, bytes.count)
        var line = 1, lineStart = 0
        for i in 0..<end where bytes[i] == UInt8(ascii: "\n") {
            line += 1
            lineStart = i + 1
        }
        return JSONSyntaxError(message: message, line: line, column: end - lineStart + 1)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

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

    private mutating func enter() throws(JSONSyntaxError) {
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
        var numbers: [Double] = []
        var values: [JSONValue]? = nil
        while true {
            skipWhitespace()
            let value = try parseValue()
            if values == nil, let number = value.doubleValue {
                numbers.append(number)
            } else {
                if values == nil { values = numbers.map(JSONValue.number) }
                values!.append(value)
            }
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return values.map(JSONValue.array) ?? .numbers(numbers)
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

    private func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Reads a number by JSON's grammar. Up to 19 significant digits with a small
    /// decimal exponent are converted exactly (Clinger's fast path); the rest go
    /// through strtod, which rounds correctly.
    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        var negative = false
        if current == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard isDigit(current) else { throw error("invalid number: expected a digit") }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var truncated = false
        if current == UInt8(ascii: "0") {
            index += 1
            if isDigit(current) { throw error("invalid number: leading zeros are not allowed") }
        } else {
            while let byte = current, isDigit(byte) {
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                    if mantissa != 0 { digits += 1 }
                } else {
                    exponent += 1
                    truncated = true
                }
                index += 1
            }
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard isDigit(current) else { throw error("invalid number: expected a digit after '.'") }
            while let byte = current, isDigit(byte) {
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
                    if mantissa != 0 { digits += 1 }
                    exponent -= 1
                } else {
                    truncated = true
                }
                index += 1
            }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            var exponentNegative = false
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") {
                exponentNegative = current == UInt8(ascii: "-")
                index += 1
            }
            guard isDigit(current) else { throw error("invalid number: expected a digit in the exponent") }
            var written = 0
            while let byte = current, isDigit(byte) {
                if written < 100_000 { written = written * 10 + Int(byte - UInt8(ascii: "0")) }
                index += 1
            }
            exponent += exponentNegative ? -written : written
        }
        if isInteger, !negative {
            if !truncated { return .unsigned(mantissa) }
            if let exact = UInt64(String(decoding: bytes[start..<index], as: UTF8.self)) { return .unsigned(exact) }
        }
        if !truncated, mantissa < (1 << 53), abs(exponent) <= 22 {
            var value = Double(mantissa)
            value = exponent < 0 ? value / Self.powersOfTen[-exponent] : value * Self.powersOfTen[exponent]
            return .number(negative ? -value : value)
        }
        if mantissa == 0 { return .number(negative ? -0.0 : 0) }
        #if arch(x86_64)
        if !truncated, abs(exponent) <= 27, let value = Self.float80Path(mantissa, exponent) {
            return .number(negative ? -value : value)
        }
        #endif
        return .number(Self.strtod(bytes, start..<index))
    }

    #if arch(x86_64)
    private static let extendedPowersOfTen: [Float80] = (0...27).map { power in
        (0..<power).reduce(Float80(1)) { value, _ in value * 10 }
    }

    /// 17–19 significant digits: the mantissa and 10^e (e ≤ 27) are exact in
    /// Float80, so one multiply or divide rounds once to 64 bits. Rounding that to a
    /// double is correct unless the 11 bits it drops sit at a halfway point, within
    /// the first rounding's error; then nil, and strtod decides.
    private static func float80Path(_ mantissa: UInt64, _ exponent: Int) -> Double? {
        let power = extendedPowersOfTen[abs(exponent)]
        let value = exponent < 0 ? Float80(mantissa) / power : Float80(mantissa) * power
        guard value.isNormal, value.exponent > -1000, value.exponent < 1000 else { return nil }
        let dropped = value.significandBitPattern & 0x7FF
        guard dropped < 0x3FF || dropped > 0x401 else { return nil }
        return Double(value)
    }
    #endif

    /// strtod on a NUL-terminated copy of the literal, on the stack when it is short.
    private static func strtod(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double {
        let count = range.count
        if count < 64 {
            return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
                for i in 0..<count { buffer[i] = CChar(bitPattern: bytes[range.lowerBound + i]) }
                buffer[count] = 0
                return Foundation.strtod(buffer.baseAddress!, nil)
            }
        }
        return Foundation.strtod(String(decoding: bytes[range], as: UTF8.self), nil)
    }

    private static let powersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }
}
