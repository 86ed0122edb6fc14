import Foundation

/// An RFC 6901 JSON Pointer, built as a request is read.
///
/// Every value a request reader touches carries one, so building one should not
/// allocate: the first six tokens are kept inline (a request's deepest pointer,
/// `/network/layers/1/weights/2/0`, has six), and a token is a `String`, which keeps
/// up to 15 bytes inline too. Only deeper pointers and long keys (met on error paths)
/// allocate. Six, not eight: a larger pointer costs more to copy with each `Node`
/// than its allocations saved (`BackpropBenchmarks wire`).
public struct JSONPointer: Sendable, Equatable, CustomStringConvertible {
    private typealias Inline = (String, String, String, String, String, String)
    private static let inlineCount = 6

    private var inline: Inline = ("", "", "", "", "", "")
    private var count = 0
    /// The tokens past the sixth.
    private var spill: [String] = []

    public init(_ tokens: [String] = []) {
        for token in tokens { append(token) }
    }

    /// The tokens, first to last (an array: for error paths, not the reading itself).
    public var tokens: [String] {
        var result: [String] = []
        result.reserveCapacity(count)
        withInline { inline in
            for index in 0..<min(count, Self.inlineCount) { result.append(inline[index]) }
        }
        return result + spill
    }

    public var isEmpty: Bool { count == 0 }

    public func appending(_ key: String) -> JSONPointer {
        var pointer = self
        pointer.append(key)
        return pointer
    }

    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }

    private mutating func append(_ token: String) {
        if count < Self.inlineCount {
            let index = count
            withUnsafeMutablePointer(to: &inline) { tuple in
                tuple.withMemoryRebound(to: String.self, capacity: Self.inlineCount) { $0[index] = token }
            }
        } else {
            spill.append(token)
        }
        count += 1
    }

    private func withInline<R>(_ body: (UnsafePointer<String>) -> R) -> R {
        withUnsafePointer(to: inline) { tuple in
            tuple.withMemoryRebound(to: String.self, capacity: Self.inlineCount, body)
        }
    }

    public static func == (lhs: JSONPointer, rhs: JSONPointer) -> Bool {
        lhs.tokens == rhs.tokens
    }

    /// `/network/layers/1/weights` (with `~` and `/` escaped as `~0` and `~1`).
    public var description: String {
        tokens.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
            .joined()
    }

    /// `network.layers[1].weights`, for messages.
    public var readable: String {
        var text = ""
        for token in tokens {
            if let index = Int(token) { text += "[\(index)]" } else { text += text.isEmpty ? token : ".\(token)" }
        }
        return text.isEmpty ? "the body" : text
    }
}
