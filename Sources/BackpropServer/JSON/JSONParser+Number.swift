import CBackpropJSON
import Foundation

/// Numbers: JSON's grammar, read into a significand and a power of ten, then
/// converted exactly (Clinger's fast path, Eisel–Lemire, strtod).
extension JSONParser {
    func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Reads a number by JSON's grammar. Up to 16 significant digits with a small
    /// decimal exponent are converted exactly (Clinger's fast path); the rest by
    /// Eisel–Lemire, and its rare undecided cases by strtod, which rounds correctly.
    mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        var negative = false
        if current == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard isDigit(current) else { throw error("invalid number: expected a digit") }
        var significand = Significand()
        if current == UInt8(ascii: "0") {
            index += 1
            if isDigit(current) { throw error("invalid number: leading zeros are not allowed") }
        } else {
            readDigits(into: &significand, fraction: false)
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard isDigit(current) else { throw error("invalid number: expected a digit after '.'") }
            readDigits(into: &significand, fraction: true)
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
            significand.exponent += exponentNegative ? -written : written
        }
        let (mantissa, exponent, truncated) = (significand.mantissa, significand.exponent, significand.truncated)
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
        if let value = Self.eiselLemire(mantissa, exponent, negative: negative, truncated: truncated) {
            return .number(value)
        }
        return .number(Self.strtod(bytes, start..<index))
    }

    /// A decimal significand as it is read: at most 19 significant digits (leading
    /// zeros do not count) and the power of ten that scales them.
    private struct Significand {
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        /// Digits past the 19th were dropped: the value is at least mantissa × 10^exponent
        /// and less than (mantissa + 1) × 10^exponent.
        var truncated = false
    }

    /// Reads a run of digits into `significand`. Integer digits past the 19th raise
    /// the exponent; fraction digits lower it while they are kept. Once a nonzero digit
    /// is in, eight digits at a time are checked and converted in one 64-bit word.
    private mutating func readDigits(into significand: inout Significand, fraction: Bool) {
        var i = index
        let count = bytes.count
        while i < count {
            if significand.mantissa != 0, significand.digits <= 11, i + 8 <= count,
               let eight = Self.eightDigits(UnsafeRawPointer(bytes.baseAddress! + i)) {
                significand.mantissa = significand.mantissa &* 100_000_000 &+ eight
                significand.digits += 8
                if fraction { significand.exponent -= 8 }
                i += 8
                continue
            }
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            if significand.digits < 19 {
                significand.mantissa = significand.mantissa &* 10 &+ UInt64(digit)
                if significand.mantissa != 0 { significand.digits += 1 }
                if fraction { significand.exponent -= 1 }
            } else {
                significand.truncated = true
                if !fraction { significand.exponent += 1 }
            }
            i += 1
        }
        index = i
    }

    /// The value of eight ASCII digits at `pointer`, or nil if any byte is not a digit
    /// (SWAR, as fast_float and simdjson read them).
    @inline(__always)
    private static func eightDigits(_ pointer: UnsafeRawPointer) -> UInt64? {
        let word = UInt64(littleEndian: pointer.loadUnaligned(as: UInt64.self))
        guard ((word &+ 0x4646_4646_4646_4646) | (word &- 0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080 == 0 else {
            return nil
        }
        var value = word &- 0x3030_3030_3030_3030
        value = value &* 10 &+ (value >> 8)
        value = ((value & 0x0000_00FF_0000_00FF) &* 0x000F_4240_0000_0064
            &+ ((value >> 16) & 0x0000_00FF_0000_00FF) &* 0x0000_2710_0000_0001) >> 32
        return value & 0xFFFF_FFFF
    }

    /// The nearest double by Eisel–Lemire (CBackpropJSON's `bp_parse_decimal`), or nil
    /// in its rare undecided cases (and for subnormal or infinite results). Past 19
    /// digits the value lies between mantissa × 10^e and (mantissa + 1) × 10^e, so it
    /// is known when both ends give the same double.
    private static func eiselLemire(_ mantissa: UInt64, _ exponent: Int, negative: Bool, truncated: Bool) -> Double? {
        guard exponent > -400, exponent < 400 else { return nil }
        var value = 0.0
        guard bp_parse_decimal(mantissa, Int32(exponent), negative ? 1 : 0, &value) == 1 else { return nil }
        if truncated {
            var upper = 0.0
            guard bp_parse_decimal(mantissa + 1, Int32(exponent), negative ? 1 : 0, &upper) == 1,
                  upper.bitPattern == value.bitPattern else { return nil }
        }
        return value
    }

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
