/// An error in the values handed to the core: what is wrong, and where.
///
/// The core never traps on data: every check on shapes, names and ranges throws
/// one of these. `path` locates the part at fault (for example `layers`, `1`,
/// `weights`), so a caller can turn it into a JSON Pointer or a message.
public struct CoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: String, Sendable {
        /// Shapes of matrices, vectors or layers do not fit together.
        case shapeMismatch
        /// A value is outside its allowed range (negative rate, empty data, ...).
        case invalidValue
        /// An activation is used where it is not allowed (softmax not last, ...).
        case invalidActivation
        /// The loss does not fit the output layer (cross-entropy on a non-probability output).
        case invalidLoss
        /// A target is not valid for the loss (cross-entropy targets outside [0, 1]).
        case invalidTarget
        /// A computation produced NaN or infinity.
        case nonFinite
    }

    /// One step of a path: an object key or an array index.
    public enum PathElement: Sendable, Equatable, CustomStringConvertible {
        case key(String)
        case index(Int)

        public var description: String {
            switch self {
            case .key(let key): key
            case .index(let index): String(index)
            }
        }
    }

    public var code: Code
    public var path: [PathElement]
    public var message: String

    public init(_ code: Code, _ message: String, path: [PathElement] = []) {
        self.code = code
        self.message = message
        self.path = path
    }

    /// The same error, located under `prefix`.
    public func prefixed(_ prefix: [PathElement]) -> CoreError {
        CoreError(code, message, path: prefix + path)
    }

    public var description: String {
        path.isEmpty ? message : "\(path.map(\.description).joined(separator: ".")): \(message)"
    }
}
