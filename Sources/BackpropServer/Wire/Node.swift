import BackpropCore

/// A JSON value with the pointer to where it stands in the request: every read
/// either returns a typed value or throws a problem naming that pointer.
///
/// Wrong JSON types, missing fields and unknown fields are 400s; values of the
/// right type that make no sense are 422s (API.md, "Precise semantics").
struct Node {
    let value: JSONValue
    let pointer: JSONPointer

    init(_ value: JSONValue, at pointer: JSONPointer = JSONPointer()) {
        self.value = value
        self.pointer = pointer
    }

    /// A bad-shape (400) problem at this node.
    func typeError(_ expected: String) -> Problem {
        .badShape("\(pointer.readable) must be \(expected), not \(value.typeName)", at: pointer)
    }

    /// A 422 problem at this node.
    func invalid(_ title: String, _ message: String) -> Problem {
        .unprocessable(title, "\(pointer.readable) \(message)", at: pointer)
    }

    /// The object's fields; throws on any key not in `allowed`.
    func object(allowed: Set<String>) throws(Problem) -> ObjectNode {
        guard case .object(let fields) = value else { throw typeError("an object") }
        for field in fields where !allowed.contains(field.key) {
            throw Problem.badShape(
                "\(pointer.readable) has an unknown field \"\(field.key)\"; allowed: \(allowed.sorted().joined(separator: ", "))",
                at: pointer.appending(field.key))
        }
        return ObjectNode(fields: fields, pointer: pointer)
    }

    func bool() throws(Problem) -> Bool {
        guard case .bool(let flag) = value else { throw typeError("a boolean") }
        return flag
    }

    func string() throws(Problem) -> String {
        guard case .string(let text) = value else { throw typeError("a string") }
        return text
    }

    /// A finite number (a literal beyond the double range is a 422).
    func double() throws(Problem) -> Double {
        guard let number = value.doubleValue else { throw typeError("a number") }
        guard number.isFinite else { throw invalid("Number out of range", "is beyond the range of a double") }
        return number
    }

    /// An integer within `range`.
    func integer(in range: ClosedRange<Int>) throws(Problem) -> Int {
        let number = try double()
        guard number == number.rounded(), number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
            throw invalid("Invalid value", "must be an integer from \(range.lowerBound) to \(range.upperBound), not \(number)")
        }
        return Int(number)
    }

    /// The largest seed, 2^53 − 1: JavaScript's `JSON.parse` keeps integers exact only
    /// up to there, so a seed a web page stores and sends back stays the same seed.
    static let maximumSeed: UInt64 = (1 << 53) - 1

    /// A seed: an integer from 0 to 2^53 − 1, exact (422 otherwise, as other ranges).
    func seed() throws(Problem) -> UInt64 {
        let range = "must be an integer from 0 to \(Self.maximumSeed)"
        switch value {
        case .unsigned(let number):
            guard number <= Self.maximumSeed else { throw invalid("Invalid value", "\(range), not \(number)") }
            return number
        case .number(let number):
            guard number == number.rounded(), number >= 0, number <= Double(Self.maximumSeed) else {
                throw invalid("Invalid value", "\(range), not \(number)")
            }
            return UInt64(number)
        default: throw typeError("an integer")
        }
    }

    /// A seed the server picks, uniformly in 0 … 2^53 − 1.
    static func randomSeed() -> UInt64 { UInt64.random(in: 0...maximumSeed) }

    /// One of a set of names (activations, losses, ...).
    func name<T: RawRepresentable & CaseIterable>(_: T.Type, what: String) throws(Problem) -> T where T.RawValue == String {
        let text = try string()
        guard let result = T(rawValue: text) else {
            let names = T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw invalid("Unknown \(what)", "is \"\(text)\", which is not one of \(names)")
        }
        return result
    }

    /// A non-empty array's elements as nodes.
    func elements() throws(Problem) -> [Node] {
        guard let array = value.arrayValue else { throw typeError("an array") }
        return array.enumerated().map { Node($1, at: pointer.appending($0)) }
    }
}

/// An object's fields, read by name.
struct ObjectNode {
    let fields: [(key: String, value: JSONValue)]
    let pointer: JSONPointer

    /// The field, or nil if it is absent or null.
    func optional(_ key: String) -> Node? {
        // A pattern, not `!= .null`: JSONValue's == would turn an array of numbers into values first.
        guard let value = fields.first(where: { $0.key == key })?.value else { return nil }
        if case .null = value { return nil }
        return Node(value, at: pointer.appending(key))
    }

    /// The field; a 400 if it is absent or null.
    func required(_ key: String) throws(Problem) -> Node {
        guard let node = optional(key) else {
            throw Problem.badShape("\(pointer.appending(key).readable) is required", at: pointer.appending(key))
        }
        return node
    }

    func has(_ key: String) -> Bool { optional(key) != nil }
}
