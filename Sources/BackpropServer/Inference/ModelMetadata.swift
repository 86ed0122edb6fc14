/// What `GET /v2/models/{name}[/versions/{v}]` says of a stored network: its name,
/// versions, platform, and its one input and one output, with -1 for the batch.
enum ModelMetadata {
    static let platform = "backprop"

    static func json(_ stored: StoredNetwork, versions: [Int]) -> JSONValue {
        .object([
            ("name", .string(stored.name)),
            ("versions", .array(versions.map { .string(String($0)) })),
            ("platform", .string(platform)),
            ("inputs", .array([tensor(InferenceRequest.inputName, width: stored.network.inputs)])),
            ("outputs", .array([tensor(InferenceRequest.outputName, width: stored.network.outputs)])),
        ])
    }

    private static func tensor(_ name: String, width: Int) -> JSONValue {
        .object([
            ("name", .string(name)), ("datatype", .string(InferenceDatatype.fp64.rawValue)),
            ("shape", .numbers([-1, Double(width)])),
        ])
    }
}
