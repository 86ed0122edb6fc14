/// A parsed JSON document, keeping what the wire layer needs: key order, exact
/// unsigned integers (for 64-bit seeds), and arrays of plain numbers as one
/// contiguous `[Double]`, and arrays of equally long arrays of numbers as one
/// row-major `[Double]` (the bulk of every request and response).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number; may be ±infinity when a literal is beyond the double range.
    case number(Double)
    /// A non-negative integer literal that fits in 64 bits, kept exactly.
    case unsigned(UInt64)
    case string(String)
    /// An array whose elements are all numbers.
    case numbers([Double])
    /// An array of at least one row, each an array of `columns` ≥ 1 numbers, kept
    /// row-major: `storage.count / columns` rows. It is the same JSON as `.array` of
    /// `.numbers` rows (and equal to it); the parser and the answers use it so a
    /// matrix is one buffer, read and written without an array per row.
    case matrix(columns: Int, storage: [Double])
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default:
            if let a = lhs.doubleValue, let b = rhs.doubleValue { a == b }
            else if let a = lhs.arrayValue, let b = rhs.arrayValue { a == b }
            else { false }
        }
    }

    /// The number, from either numeric case.
    public var doubleValue: Double? {
        switch self {
        case .number(let value): value
        case .unsigned(let value): Double(value)
        default: nil
        }
    }

    /// The elements of either array case.
    public var arrayValue: [JSONValue]? {
        switch self {
        case .array(let elements): elements
        case .numbers(let numbers): numbers.map(JSONValue.number)
        case .matrix(let columns, let storage):
            stride(from: 0, to: storage.count, by: columns).map { .numbers(Array(storage[$0..<($0 + columns)])) }
        default: nil
        }
    }

    /// The value of `key` in an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.key == key }?.value
    }

    /// True if a number anywhere inside is NaN or infinite (JSON cannot carry it).
    public var containsNonFinite: Bool {
        switch self {
        case .number(let value): !value.isFinite
        case .numbers(let values), .matrix(_, let values): !values.allSatisfy(\.isFinite)
        case .array(let values): values.contains { $0.containsNonFinite }
        case .object(let fields): fields.contains { $0.value.containsNonFinite }
        default: false
        }
    }

    /// The JSON type's name, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number, .unsigned: "a number"
        case .string: "a string"
        case .numbers, .matrix, .array: "an array"
        case .object: "an object"
        }
    }
}
