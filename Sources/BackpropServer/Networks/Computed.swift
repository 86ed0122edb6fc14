/// A computation's answer, with the network to store when the request asked for
/// that (`save_as`) before it is sent.
struct Computed: Sendable {
    var json: JSONValue
    var save: (name: String, content: NetworkContent)?

    init(_ json: JSONValue, save: (name: String, content: NetworkContent)? = nil) {
        self.json = json
        self.save = save
    }

    /// Stores the network, and returns the answer with `saved_as`: the name, version and ETag stored.
    func saving(to store: any NetworkStore, precondition: WritePrecondition) async throws(Problem) -> JSONValue {
        guard let save, case .object(var fields) = json else { return json }
        let stored = try await store.put(save.name, save.content, precondition: precondition)
        fields.append(
            ("saved_as", .object([
                ("name", .string(stored.name)), ("version", .unsigned(UInt64(stored.version))), ("etag", .string(stored.etag)),
            ])))
        return .object(fields)
    }
}

/// What the compute pool hands back: an answer ready to send, or a result whose
/// network is stored first.
enum Prepared: Sendable {
    case answer(Answer)
    case save(Computed)
}
