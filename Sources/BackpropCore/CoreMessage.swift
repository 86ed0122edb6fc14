/// A core error's message: text, with the places it mentions kept as `Location`s,
/// so the HTTP layer can name them in the request's own words.
///
///     "\(Location.layer(1, .weights)) has 3 rows, but \(Location.layer(0)) has 2 units"
public struct CoreMessage: Sendable, Equatable, ExpressibleByStringInterpolation {
    public enum Segment: Sendable, Equatable {
        case text(String)
        case location(Location)
    }

    public private(set) var segments: [Segment]
    /// Set by `naming(_:)`: the words name the place themselves ("the input holds no samples").
    public private(set) var namesItsPlace = false

    public init(stringLiteral value: String) {
        segments = [.text(value)]
    }

    public init(stringInterpolation: StringInterpolation) {
        segments = stringInterpolation.segments
    }

    /// A message whose words already name the place at fault, so it reads whole.
    public static func naming(_ message: CoreMessage) -> CoreMessage {
        var message = message
        message.namesItsPlace = true
        return message
    }

    /// Whether the message reads whole, without a prefix naming `location`: it mentions
    /// a place of its own ("\(layer 1 weights) has 3 rows, but…"), or is `naming(_:)`.
    public func readsAlone(at location: Location) -> Bool {
        namesItsPlace || location == .unlocated
            || segments.contains { if case .location = $0 { true } else { false } }
    }

    /// The same message with each location moved by `move`.
    public func relocated(_ move: (Location) -> Location) -> CoreMessage {
        var message = self
        message.segments = segments.map { segment in
            if case .location(let location) = segment { .location(move(location)) } else { segment }
        }
        return message
    }

    /// The text, with each location named by `name`.
    public func text(naming name: (Location) -> String) -> String {
        var result = ""
        for segment in segments {
            switch segment {
            case .text(let text): result += text
            case .location(let location): result += name(location)
            }
        }
        return result
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var segments: [Segment] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) {
            append(literal)
        }

        public mutating func appendInterpolation(_ location: Location) {
            segments.append(.location(location))
        }

        public mutating func appendInterpolation(_ value: some CustomStringConvertible) {
            append(value.description)
        }

        /// Text joins the text before it, so equal messages have equal segments.
        private mutating func append(_ text: String) {
            guard !text.isEmpty else { return }
            if case .text(let previous) = segments.last {
                segments[segments.count - 1] = .text(previous + text)
            } else {
                segments.append(.text(text))
            }
        }
    }
}

extension CoreMessage: CustomStringConvertible {
    public var description: String { text(naming: \.description) }
}
