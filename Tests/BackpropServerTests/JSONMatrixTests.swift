import BackpropCore
@testable import BackpropServer
import Testing

/// Arrays of equally long arrays of numbers are read into one buffer (`.matrix`): the
/// same JSON as rows of `.numbers`, written to the same bytes, and every other shape
/// (or fault) read as before.
@Suite struct JSONMatrixTests {
    static func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func rowsOfNumbersAreOneBuffer() throws {
        guard case .matrix(let columns, let storage) = try Self.parse(" [ [1, 2.5] ,\n[-3e2,4 ] ] ") else {
            Issue.record("not a matrix"); return
        }
        #expect(columns == 2)
        #expect(storage == [1, 2.5, -300, 4])
        guard case .matrix(1, [7]) = try Self.parse("[[7]]") else { Issue.record("[[7]]"); return }
        // A matrix inside another array, and in an object.
        #expect(try Self.parse(#"{"a": [[[1, 2]], [[3]]]}"#) == .object([("a", .array([.matrix(columns: 2, storage: [1, 2]), .matrix(columns: 1, storage: [3])]))]))
    }

    @Test(arguments: [
        "[[1, 2], [3]]", "[[]]", "[[], []]", "[[1], []]", #"[[1, "a"]]"#, "[[1, 2], 3]", "[[1], null]",
        "[[1, [2]]]", "[[1], {}]", "[[true]]",
    ])
    func otherShapesAreReadAsBefore(_ text: String) throws {
        let value = try Self.parse(text)
        if case .matrix = value { Issue.record("\(text) read as a matrix") }
        guard case .array(let elements) = value else { Issue.record("\(text) not an array"); return }
        #expect(!elements.isEmpty)
    }

    @Test func raggedRowsKeepTheirOwnArrays() throws {
        #expect(try Self.parse("[[1, 2], [3]]") == .array([.numbers([1, 2]), .numbers([3])]))
        #expect(try Self.parse("[[1, 2], 3]") == .array([.numbers([1, 2]), .number(3)]))
    }

    @Test(arguments: [
        ("[[1, 2] 3]", "unexpected character '3': expected ',' or ']' in an array", 9),
        ("[[1, 2],]", "unexpected character ']': expected a value", 9),
        ("[[1, 2], [3, 4]", "unexpected end of input: expected ',' or ']' in an array", 16),
        ("[[1, 2,]]", "unexpected character ']': expected a value", 8),
        ("[[1, -]]", "", 0),
        ("[[1, 01]]", "", 0),
    ])
    func faultsAreReportedAsTheGeneralReaderReportsThem(_ text: String, _ message: String, _ column: Int) throws {
        do {
            _ = try Self.parse(text)
            Issue.record("\(text) parsed")
        } catch let error as JSONSyntaxError {
            if !message.isEmpty {
                #expect(error.message == message, "\(text): \(error.message)")
                #expect(error.column == column, "\(text): column \(error.column)")
            }
            #expect(error.line == 1)
        }
    }

    @Test func nestingIsLimitedInsideAMatrixToo() throws {
        let depth = JSONParser.maximumDepth
        let open = String(repeating: "[", count: depth - 2), close = String(repeating: "]", count: depth - 2)
        #expect(throws: Never.self) { try Self.parse(open + "[[1]]" + close) }
        do {
            _ = try Self.parse(open + "[[[1]]]" + close)
            Issue.record("nesting past the limit parsed")
        } catch let error as JSONSyntaxError {
            #expect(error.message == "nesting is deeper than \(depth) levels")
            #expect(error.column == depth + 1)
        }
    }

    @Test(arguments: [false, true])
    func writtenAsRowsAndReadBack(pretty: Bool) throws {
        var generator = SeededGenerator(seed: 31)
        for _ in 0..<300 {
            let columns = 1 + generator.nextIndex(below: 20), rows = 1 + generator.nextIndex(below: 30)
            let storage = (0..<(rows * columns)).map { _ in generator.nextNormal() * 1e3 }
            let matrix = JSONValue.matrix(columns: columns, storage: storage)
            let asRows = JSONValue.array((0..<rows).map { .numbers(Array(storage[($0 * columns)..<(($0 + 1) * columns)])) })
            let document = JSONValue.object([("m", matrix), ("n", .number(1))])
            let rowsDocument = JSONValue.object([("m", asRows), ("n", .number(1))])
            let written = JSONWriter.encode(document, pretty: pretty)
            #expect(written == JSONWriter.encode(rowsDocument, pretty: pretty))
            #expect(JSONWriter.sizeBound(document, pretty: pretty) >= written.count)
            #expect(matrix == asRows)
            guard case .object(let fields) = try JSONParser.parse(written), case .matrix(let c, let s) = fields[0].value else {
                Issue.record("not read back as a matrix"); return
            }
            #expect(c == columns)
            #expect(s.map(\.bitPattern) == storage.map(\.bitPattern))
        }
    }

    @Test func aMatrixIsReadIntoTheComputationsMatrix() throws {
        let value = try Self.parse("[[1, 2, 3], [4, 5, 6]]")
        let matrix = try value.sampleMatrix()
        #expect(matrix.rows == 2 && matrix.columns == 3)
        #expect(matrix.storage == [1, 2, 3, 4, 5, 6])
        // Beyond the double range: the element's pointer, as before.
        do {
            _ = try Self.parse("[[1, 2], [3, 1e999]]").sampleMatrix()
            Issue.record("no problem")
        } catch let error as Problem {
            #expect(error.pointer == "/1/1")
            #expect(error.title == "Number out of range")
            #expect(error.detail == "[1][1] is beyond the range of a double")
        }
    }
}
