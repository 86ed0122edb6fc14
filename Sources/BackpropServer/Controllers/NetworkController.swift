import BackpropCore
import HTTPTypes
import Hummingbird

/// Stored networks: PUT/GET/DELETE /networks/{name}, GET /networks,
/// GET/DELETE /networks/{name}/versions/{v}, POST /networks/{name}/train.
struct NetworkController {
    let store: any NetworkStore
    let pool: ComputePool
    let limits: Limits
    let maximumBodySize: Int
    let delivery: Delivery
    /// Runs POST /networks/{name}/train as POST /train runs.
    let compute: ComputeController

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/networks") { request, context in
            let pretty = try request.prettyFlag()
            let networks = try await store.list()
            return try delivery.response(.object([("networks", .array(networks.map(\.summaryJSON)))]), pretty: pretty, channel: context.channel)
        }
        router.put("/networks/:name") { request, context in try await put(request, context) }
        router.get("/networks/:name") { request, context in
            let name = try NetworkName.checked(context.parameters.get("name") ?? "")
            guard let stored = try await store.get(name, version: nil) else { throw Problem.noSuchNetwork(name) }
            let versions = try await store.versions(name)
            return try show(stored, versions: versions, request, context)
        }
        router.get("/networks/:name/versions/:version") { request, context in
            let name = try NetworkName.checked(context.parameters.get("name") ?? "")
            let version = try NetworkName.version(context.parameters.get("version"))
            guard let stored = try await store.get(name, version: version) else {
                throw Problem.noSuchNetwork(name, version: version)
            }
            return try show(stored, versions: nil, request, context)
        }
        router.delete("/networks/:name") { request, context in
            let name = try NetworkName.checked(context.parameters.get("name") ?? "")
            guard try await store.delete(name, precondition: try Self.precondition(request)) else {
                throw Problem.noSuchNetwork(name)
            }
            return Response(status: .noContent)
        }
        router.delete("/networks/:name/versions/:version") { _, context in
            let name = try NetworkName.checked(context.parameters.get("name") ?? "")
            let version = try NetworkName.version(context.parameters.get("version"))
            guard try await store.delete(name, version: version) else { throw Problem.noSuchNetwork(name, version: version) }
            return Response(status: .noContent)
        }
        router.post("/networks/:name/train") { request, context in
            let name = try NetworkName.checked(context.parameters.get("name") ?? "")
            let precondition = try Self.precondition(request)
            // The body is read and the latest version fetched first; with If-Match, the
            // training starts only if that is still the version named, and its result
            // is stored only if it still is then.
            do {
                return try await compute.train(request, context, precondition: precondition) { json throws(Problem) in
                    try Self.continuing(name, json)
                }
            } catch var problem as Problem where problem.status == .notFound {
                problem.pointer = nil  // the name is the path's, not a field's
                throw problem
            }
        }
    }

    /// PUT: the body is a network as /forward takes it (given weights, or generated from a seed).
    private func put(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let name = try NetworkName.checked(context.parameters.get("name") ?? "")
        let precondition = try Self.precondition(request)
        let pretty = try request.prettyFlag()
        let (buffer, _) = try await request.collectBody(
            upTo: maximumBodySize, deadlines: delivery.deadlines, context: context, budget: delivery.budget)
        let (content, seed) = try await pool.run { [limits] _ in
            let node = Node(try RequestBody.json(buffer.readableBytesView))
            if NetworkReference.isReference(node) {
                throw node.invalid("Invalid network", "is a reference to a stored network; PUT takes the network itself (layers)")
            }
            let wire = try NetworkWire(node)
            let (network, seed) = try wire.build(maximumParameters: limits.maximumParameters)
            return (wire.content(network), seed)
        }
        let stored = try await store.put(name, content, precondition: precondition)
        guard case .object(var fields) = stored.summaryJSON else { throw Problem.internalError }
        if let seed { fields.append(("seed", .unsigned(seed))) }
        var response = try delivery.response(.object(fields), pretty: pretty, status: .created, channel: context.channel)
        response.headers[.location] = "/networks/\(name)/versions/\(stored.version)"
        response.headers[.eTag] = stored.etag
        return response
    }

    /// A version, with its ETag; 304 for a matching `If-None-Match`.
    private func show(_ stored: StoredNetwork, versions: [Int]?, _ request: Request, _ context: AppRequestContext) throws -> Response {
        let pretty = try request.prettyFlag()  // a bad ?pretty is a 400 even when the answer would be a 304
        if let ifNoneMatch = request.headers[.ifNoneMatch], Self.tags(ifNoneMatch).contains(where: { $0 == "*" || Self.weakEqual($0, stored.etag) }) {
            return Response(status: .notModified, headers: [.eTag: stored.etag])
        }
        guard case .object(var fields) = stored.fullJSON else { throw Problem.internalError }
        if let versions { fields.append(("versions", .array(versions.map { .unsigned(UInt64($0)) }))) }
        var response = try delivery.response(.object(fields), pretty: pretty, channel: context.channel)
        response.headers[.eTag] = stored.etag
        return response
    }

    /// The body of POST /networks/{name}/train as a /train body: the latest stored
    /// version, saved back under its own name.
    static func continuing(_ name: String, _ json: JSONValue) throws(Problem) -> JSONValue {
        guard case .object(var fields) = json else { throw Node(json).typeError("an object") }
        for key in ["network", "save_as"] where json[key] != nil {
            throw Problem.badShape(
                "\(key) is not taken here: the network is the stored one, and the result is its next version",
                at: JSONPointer([key]))
        }
        fields.append(("network", .object([("name", .string(name))])))
        fields.append(("save_as", .string(name)))
        return .object(fields)
    }

    /// `If-Match` and `If-None-Match: *` as a write's precondition.
    static func precondition(_ request: Request) throws(Problem) -> WritePrecondition {
        var precondition = WritePrecondition()
        let ifMatch = request.headers[values: .ifMatch]
        if !ifMatch.isEmpty { precondition.ifMatch = ifMatch.flatMap(tags) }
        if let ifNoneMatch = request.headers[.ifNoneMatch] {
            guard tags(ifNoneMatch) == ["*"] else {
                throw Problem(.badRequest, title: "Invalid If-None-Match", detail: "a write takes only If-None-Match: *")
            }
            precondition.ifNoneMatchAny = true
        }
        return precondition
    }

    /// The entity tags of a comma-separated list.
    static func tags(_ value: String) -> [String] {
        value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// RFC 9110's weak comparison (for If-None-Match): equal once any `W/` is dropped.
    static func weakEqual(_ a: String, _ b: String) -> Bool {
        (a.hasPrefix("W/") ? String(a.dropFirst(2)) : a) == (b.hasPrefix("W/") ? String(b.dropFirst(2)) : b)
    }
}
