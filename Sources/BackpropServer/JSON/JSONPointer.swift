import Foundation
import BackpropCore

/// An RFC 6901 JSON Pointer, built as a request is read.
public struct JSONPointer: Sendable, Equatable, CustomStringConvertible {
    public private(set) var tokens: [String]

    public init(_ tokens: [String] = []) {
        self.tokens = tokens
    }

    // Appending in place: `tokens + [key]` would allocate the one-element array too.
    public func appending(_ key: String) -> JSONPointer {
        var pointer = self
        pointer.tokens.append(key)
        return pointer
    }
    public func appending(_ index: Int) -> JSONPointer { appending(String(index)) }

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
