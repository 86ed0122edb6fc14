import BackpropCore
@testable import BackpropServer
import Foundation
import NIOCore
import Testing

/// The service's own JSON reader and writer: exact numbers both ways, strict syntax.
@Suite struct JSONTests {
    static func parseNumber(_ text: String) throws -> Double? {
        try JSONParser.parse(Array(text.utf8)).doubleValue
    }

    @Test func doublesRoundTripBitForBit() throws {
        var generator = SeededGenerator(seed: 11)
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 1e-5, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e15, 1e16, 123456789012345678]
        for _ in 0..<20_000 {
            values.append(generator.nextNormal())
            values.append(Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF))  // any finite double
            values.append(generator.nextUniform(limit: 1) * pow(10, Double(generator.nextIndex(below: 60)) - 30))
        }
        let written = JSONWriter.encode(.numbers(values))
        let read = try JSONParser.parse(written)
        guard case .numbers(let back) = read else { Issue.record("not an array of numbers"); return }
        #expect(back.count == values.count)
        let mismatches = zip(values, back).filter { $0.0.bitPattern != $0.1.bitPattern && !($0.0 == 0 && $0.1 == 0) }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        // Foundation's reader agrees with what we wrote.
        let foundation = try JSONSerialization.jsonObject(with: Data(written)) as? [NSNumber]
        #expect(foundation?.count == values.count)
    }

    /// The writer's own formatter (Schubfach, in C) prints what Swift's `description`
    /// prints, digit for digit: shortest, closest, same notation switches.
    @Test func numbersAreWrittenAsDescriptionWritesThem() throws {
        var generator = SeededGenerator(seed: 13)
        var values: [Double] = [
            0.1, 1e-5, 0.0001, 0.00010000000000000002, 9.999999999999999e-05, 5e-324, 2.2250738585072014e-308,
            1.7976931348623157e308, 9007199254740992, 9007199254740994, 9.5e15, 1e15, 1e16, 123456789012345.67,
        ]
        for _ in 0..<30_000 {
            values.append(Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF))  // any finite double
            values.append(generator.nextUnit())
            values.append(Double(generator.nextIndex(below: 1_000_000)) / 1000 * pow(10, Double(generator.nextIndex(below: 40)) - 20))
        }
        values += values.map { -$0 }
        var differing: [(Double, String)] = []
        for value in values where value != 0 {  // zeros: integersAndSpecialLiterals
            let text = String(decoding: JSONWriter.encode(.number(value)), as: UTF8.self)
            let expected =
                value == value.rounded(.towardZero) && abs(value) < 1e15
                ? String(Int64(value)) : value.description
            if text != expected { differing.append((value, text)) }
        }
        #expect(differing.isEmpty, "\(differing.prefix(5))")
    }

    /// `encode` writes into memory sized by `sizeBound`; the bound must hold for the
    /// widest text of every kind of value (else the writer spills and copies).
    @Test(arguments: [false, true]) func sizeBoundHoldsForTheWidestValues(pretty: Bool) {
        let widest = -1.2345678901234567e-308
        let control = String(repeating: "\u{01}", count: 50)
        let values: [JSONValue] = [
            .null, .bool(false), .number(widest), .unsigned(.max), .string(control), .numbers([]),
            .numbers(Array(repeating: widest, count: 1000)),
            .array([.array([.object([(control, .numbers([widest, 1e15, -0.0]))])]), .array([]), .object([])]),
            .object([("a", .array(Array(repeating: .object([("\u{1F}\"\\", .number(widest))]), count: 40)))]),
        ]
        for value in values {
            let array = JSONWriter.encode(value, pretty: pretty)
            var buffer = ByteBuffer()
            JSONWriter.encode(value, pretty: pretty, into: &buffer)
            #expect(Array(buffer.readableBytesView) == array)
            // The bound leaves the formatter's 32 bytes of scratch.
            #expect(array.count + 32 <= JSONWriter.sizeBound(value, pretty: pretty), "\(value)")
        }
        #expect(String(decoding: JSONWriter.encode(.numbers([widest])), as: UTF8.self).utf8.count == 26)
    }

    @Test func longLiteralsMatchStrtod() throws {
        var generator = SeededGenerator(seed: 12)
        for _ in 0..<20_000 {
            let digits = String((0..<(17 + generator.nextIndex(below: 4))).map { _ in Character(String(generator.nextIndex(below: 10))) })
            let exponent = generator.nextIndex(below: 80) - 40
            let text = "\(generator.nextIndex(below: 9) + 1)\(digits)e\(exponent)"
            let parsed = try #require(try Self.parseNumber(text))
            #expect(parsed.bitPattern == strtod(text, nil).bitPattern, "\(text)")
        }
    }

    /// What JSON writers send (17 significant digits, a point, a sign), over the whole
    /// range of exponents: Eisel–Lemire, with strtod for its undecided cases and for
    /// subnormal results, must give strtod's bits every time.
    @Test func seventeenDigitDecimalsMatchStrtodOverTheWholeRange() throws {
        var generator = SeededGenerator(seed: 14)
        for _ in 0..<20_000 {
            let value = Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF)
            for text in [String(format: "%.17g", value), String(format: "-%.16e", value), String(format: "%.18e", value)] {
                let parsed = try #require(try Self.parseNumber(text))
                #expect(parsed.bitPattern == strtod(text, nil).bitPattern, "\(text)")
            }
        }
        for text in ["0.30000000000000004", "9007199254740993", "2.2250738585072011e-308", "4.9406564584124654e-324",
                     "1.7976931348623157e308", "17976931348623158e292", "1e-350", "123456789012345678901e-300"] {
            let parsed = try #require(try Self.parseNumber(text))
            #expect(parsed.bitPattern == strtod(text, nil).bitPattern, "\(text)")
        }
    }

    @Test func integersAndSpecialLiterals() throws {
        #expect(try JSONParser.parse(Array("18446744073709551615".utf8)) == .unsigned(.max))
        #expect(try Self.parseNumber("1e400") == .infinity)
        #expect(try Self.parseNumber("-1e400") == -.infinity)
        #expect(try Self.parseNumber("-0")?.sign == .minus)
        #expect(try Self.parseNumber("0.30000000000000004") == 0.30000000000000004)
        #expect(String(decoding: JSONWriter.encode(.numbers([2, -3, 0.5, 1e20, -0.0])), as: UTF8.self) == "[2,-3,0.5,1e+20,-0]")
    }

    @Test(arguments: [
        ("[1, 2,]", 1, 7), ("{\"a\" 1}", 1, 6), ("01", 1, 2), ("[1]\n x", 2, 2), ("\"\u{1}\"", 1, 2),
        ("[NaN]", 1, 2), ("{\"a\": 1, \"a\": 2}", 1, 16), ("", 1, 1), ("[\"\\uD800\"]", 1, 9),
    ])
    func syntaxErrorsSayWhere(_ text: String, _ line: Int, _ column: Int) {
        #expect {
            try JSONParser.parse(Array(text.utf8))
        } throws: { error in
            guard let error = error as? JSONSyntaxError else { return false }
            return error.line == line && error.column == column
        }
    }

    @Test func deepNestingIsRefusedNotCrashed() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSONParser.parse(Array(fine.utf8)) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xFF, 0xFE, 0x22]) }
    }
}

@Suite struct JSONObjectTests {
    @Test func manyKeysAndDuplicates() throws {
        let keys = (0..<100_000).map { "\"k\($0)\": \($0)" }.joined(separator: ",")
        let value = try JSONParser.parse(Array("{\(keys)}".utf8))
        #expect(value["k99999"] == .unsigned(99_999))
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse(Array("{\"a\": 1, \"b\": 2, \"a\": 3}".utf8)) }
        // Small objects compare keys one by one, larger ones (past 16 keys) use a set:
        // a repeat of the first key is found on either side of that switch.
        for count in [15, 16, 17, 40] {
            let fields = (0..<count).map { "\"k\($0)\": 0" } + ["\"k0\": 1"]
            #expect(throws: JSONSyntaxError.self, "\(count) keys") {
                try JSONParser.parse(Array("{\(fields.joined(separator: ","))}".utf8))
            }
            let unique = (0..<count).map { "\"k\($0)\": 0" } + ["\"k\\u0030x\": 1"]  // an escaped key, "k0x"
            let value = try JSONParser.parse(Array("{\(unique.joined(separator: ","))}".utf8))
            #expect(value["k0x"] == .unsigned(1))
        }
    }
}
