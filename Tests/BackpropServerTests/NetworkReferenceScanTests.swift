import NIOCore
import Testing

@testable import BackpropServer

/// The quick scan that decides whether a body may name a stored network.
@Suite struct NetworkReferenceScanTests {
    static let cases: [(String, Bool)] = [
        (#"{"network": {"name": "xor"}}"#, true),
        (#""name""#, true),  // the whole text
        (#"{"input": [1], "network": {"version": 2, "name": "a"}}"#, true),
        (#"{"a": "\"", "name": 1}"#, true),  // after another quote
        (#"{"network": {"layers": []}, "input": [0.5]}"#, false),
        (#"{"names": 1}"#, false),
        (#"{"nam": 1, "ame": 2}"#, false),
        (#""name"#, false),  // cut short at the end
        (#"name"#, false),
        ("", false),
        (#"""""""name"""#, true),  // runs of quotes before it
        (#"{"x": "n", "name"#, false),
    ]

    @Test(arguments: cases)
    func findsTheQuotedKeyAndNothingElse(text: String, expected: Bool) {
        #expect(NetworkReference.mayAppear(in: Array(text.utf8)) == expected)
        #expect(NetworkReference.mayAppear(in: ByteBuffer(string: text).readableBytesView) == expected)
        #expect(NetworkReference.mayAppear(in: text.utf8) == expected)
        // Not contiguous: the same answer through the copy.
        #expect(NetworkReference.mayAppear(in: text.utf8.reversed().reversed()) == expected)
    }

    /// Against a plain search, over random bodies made of the key's own bytes.
    @Test func agreesWithAPlainSearchOnRandomBytes() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = Array(#""name x"#.utf8)
        let key = Array(#""name""#.utf8)
        var mismatches = 0
        for _ in 0..<5_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let count = Int(state >> 58)  // 0–63 bytes
            var bytes: [UInt8] = []
            for _ in 0..<count {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(state >> 61) % alphabet.count])
            }
            let plain = bytes.count >= key.count
                && (0...(bytes.count - key.count)).contains { Array(bytes[$0..<($0 + key.count)]) == key }
            if NetworkReference.mayAppear(in: bytes) != plain { mismatches += 1 }
        }
        #expect(mismatches == 0)
    }
}
