import BackpropServer
import Testing

/// JSONPointer keeps its first six tokens inline: the same pointer whatever its depth.
@Suite struct JSONPointerTests {
    @Test(arguments: [0, 1, 5, 6, 7, 8, 20])
    func tokensSurviveAnyDepth(depth: Int) {
        let tokens = (0..<depth).map { $0.isMultiple(of: 2) ? "key\($0) with a rather long name ~/" : String($0) }
        var built = JSONPointer()
        for token in tokens { built = built.appending(token) }
        #expect(built.tokens == tokens)
        #expect(built == JSONPointer(tokens))
        #expect(built.isEmpty == tokens.isEmpty)
        let expected = tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }.joined()
        #expect(built.description == expected)
    }

    @Test func aChildLeavesItsParentAsItWas() {
        let parent = JSONPointer(["network", "layers"])
        let first = parent.appending(0), second = parent.appending(1).appending("weights")
        #expect(parent.description == "/network/layers")
        #expect(first.description == "/network/layers/0")
        #expect(second.description == "/network/layers/1/weights")
        #expect(second.readable == "network.layers[1].weights")
        #expect(JSONPointer().readable == "the body")
        #expect(first != second)
        #expect(JSONPointer(["", "a"]).description == "//a")
    }
}
