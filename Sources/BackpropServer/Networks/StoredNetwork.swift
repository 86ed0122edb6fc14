import BackpropCore
import Foundation

/// One version of a stored network: parsed once, when it is stored or first read,
/// and never again on the hot path.
struct StoredNetwork: Sendable {
    let name: String
    let version: Int
    /// The strong entity tag, quotes included: `"v3-1f2e…"` (the version and a hash of its JSON).
    let etag: String
    let createdAt: Date
    let content: NetworkContent

    var network: Network { content.network }
    var shorthand: [Bool] { content.shorthand }

    init(name: String, version: Int, createdAt: Date, content: NetworkContent) {
        self.name = name
        self.version = version
        self.createdAt = createdAt
        self.content = content
        etag = Self.etag(version: version, json: content.json)
    }

    static func etag(version: Int, json: [UInt8]) -> String {
        // FNV-1a, 64-bit: the ETag only tells versions apart, it is not a security feature.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in json { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return "\"v\(version)-\(String(repeating: "0", count: 16 - hex.count))\(hex)\""
    }

    /// Bytes this version holds in memory: its JSON and its parameters.
    var bytes: Int { content.json.count + content.network.parameterCount * 8 + 256 }

    /// `{"name", "version"}`: which stored network an answer used.
    var referenceJSON: JSONValue {
        .object([("name", .string(name)), ("version", .unsigned(UInt64(version)))])
    }

    /// The summary: name, version, ETag, date, shape.
    var summaryJSON: JSONValue {
        .object([
            ("name", .string(name)),
            ("version", .unsigned(UInt64(version))),
            ("etag", .string(etag)),
            ("created_at", .string(JobSnapshot.timestamp(createdAt))),
            ("inputs", .unsigned(UInt64(network.inputs))),
            ("outputs", .unsigned(UInt64(network.outputs))),
            ("parameters", .unsigned(UInt64(network.parameterCount))),
            ("layers", .unsigned(UInt64(network.layers.count))),
        ])
    }

    /// The summary with the network itself.
    var fullJSON: JSONValue {
        guard case .object(var fields) = summaryJSON else { return summaryJSON }
        fields.append(("network", NetworkContent.json(network, shorthand: shorthand)))
        return .object(fields)
    }

}

/// What a version holds: the network, how each layer is written (vector shorthand or
/// not), and its JSON (`{"layers": [...]}`) as it is stored and compared.
struct NetworkContent: Sendable {
    let network: Network
    let shorthand: [Bool]
    let json: [UInt8]

    init(network: Network, shorthand: [Bool]) {
        self.network = network
        self.shorthand = shorthand
        json = JSONWriter.encode(Self.json(network, shorthand: shorthand))
    }

    static func json(_ network: Network, shorthand: [Bool]) -> JSONValue {
        .object([
            ("layers", .array(zip(network.layers, shorthand).map { NetworkWire.layerJSON($0, scalar: $1) }))
        ])
    }

    /// Reads stored JSON back (from the database): trusted, but checked all the same.
    init(json bytes: [UInt8]) throws(Problem) {
        let wire = try NetworkWire(Node(try RequestBody.json(bytes)))
        let (network, _) = try wire.build(maximumParameters: Int.max)
        self.network = network
        shorthand = wire.shorthand
        json = bytes
    }
}
