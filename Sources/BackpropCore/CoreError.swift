/// An error in the values handed to the core: what is wrong, and where.
///
/// The core never traps on data: every check on shapes, names and ranges throws
/// one of these, with a typed `location`. The HTTP layer alone turns the location
/// into a JSON Pointer and the message into a detail.
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

    public var code: Code
    public var location: Location
    public var message: CoreMessage

    public init(_ code: Code, _ message: CoreMessage, at location: Location = .unlocated) {
        self.code = code
        self.message = message
        self.location = location
    }

    /// The same error, moved to another place (`Location.inValidation()`, ...).
    public func relocated(_ move: (Location) -> Location) -> CoreError {
        CoreError(code, message.relocated(move), at: move(location))
    }

    public var description: String {
        message.readsAlone(at: location) ? message.description : "\(location): \(message)"
    }
}
