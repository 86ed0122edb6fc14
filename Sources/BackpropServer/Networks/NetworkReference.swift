import Foundation

/// `"network": {"name": "xor"}` or `{"name": "xor", "version": 3}`: a stored network
/// named where a request takes a network.
struct NetworkReference: Sendable, Hashable {
    var name: String
    /// Nil: the latest version.
    var version: Int?

    static let fields: Set<String> = ["name", "version"]

    /// Reads a reference from the network object at `node`.
    init(_ node: Node) throws(Problem) {
        let object = try node.object(allowed: Self.fields)
        let nameNode = try object.required("name")
        name = try NetworkName.checked(try nameNode.string(), pointer: nameNode.pointer.description)
        version = try object.optional("version")?.integer(in: 1...Int(Int32.max))
    }

    /// Whether the network object at `node` is a reference (it has a name).
    static func isReference(_ node: Node) -> Bool {
        node.value["name"] != nil
    }

    /// The reference in a request body's `network`, if it has one; nil for a network
    /// given in full (or a body whose faults the route will report).
    static func find(in body: JSONValue) throws(Problem) -> NetworkReference? {
        guard case .object = body, let value = body["network"], case .object = value else { return nil }
        let network = Node(value, at: JSONPointer(["network"]))
        return isReference(network) ? try NetworkReference(network) : nil
    }

    /// Whether `bytes` can hold a reference at all: a quick scan for `"name"` that
    /// spares bodies without one a second look.
    ///
    /// It runs on every /forward, /gradient and job body, so it jumps from quote to
    /// quote with `memchr` over the contiguous bytes. (The standard library's generic
    /// `firstRange(of:)` was 1.6% of a loaded server's CPU on /gradient, and more in
    /// the generic metadata lookups it made per call.)
    static func mayAppear<Bytes: Collection<UInt8>>(in bytes: Bytes) -> Bool {
        bytes.withContiguousStorageIfAvailable { containsNameKey(UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes(containsNameKey)
    }

    /// `"name"`, with its quotes.
    private static let nameKey: [UInt8] = Array(#""name""#.utf8)

    private static func containsNameKey(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let key = nameKey
        guard let base = bytes.baseAddress, bytes.count >= key.count else { return false }
        let lastStart = bytes.count - key.count
        var offset = 0
        while offset <= lastStart, let quote = memchr(base + offset, 0x22, lastStart + 1 - offset) {
            let at = base.distance(to: UnsafeRawPointer(quote))
            if (1..<key.count).allSatisfy({ bytes[at + $0] == key[$0] }) { return true }
            offset = at + 1
        }
        return false
    }
}

/// The stored networks a request names, fetched before it is computed (the
/// computation itself is synchronous, on the compute pool).
struct ResolvedNetworks: Sendable {
    private var networks: [NetworkReference: StoredNetwork] = [:]

    init() {}

    init(_ reference: NetworkReference, _ stored: StoredNetwork) {
        networks[reference] = stored
    }

    subscript(reference: NetworkReference) -> StoredNetwork? { networks[reference] }

    /// The one network fetched, if exactly one was.
    var single: StoredNetwork? { networks.count == 1 ? networks.first?.value : nil }

    var isEmpty: Bool { networks.isEmpty }

    /// Fetches the network `body` names, if it names one: 404 if there is none.
    static func resolve(_ body: JSONValue, from store: any NetworkStore) async throws(Problem) -> ResolvedNetworks {
        guard let reference = try NetworkReference.find(in: body) else { return ResolvedNetworks() }
        return try await resolve(reference, from: store)
    }

    static func resolve(_ reference: NetworkReference, from store: any NetworkStore) async throws(Problem) -> ResolvedNetworks {
        guard let stored = try await store.get(reference.name, version: reference.version) else {
            throw Problem.noSuchNetwork(
                reference.name, version: reference.version,
                pointer: reference.version == nil ? "/network/name" : "/network/version")
        }
        return ResolvedNetworks(reference, stored)
    }
}
