import BackpropCore

/// POST /forward: the output per sample, and with `trace` every layer's h and f(h).
enum ForwardWire {
    static let fields: Set<String> = ["network", "input", "trace"]

    /// A /forward body, read: its network, its samples and what to answer.
    struct Request {
        let wire: NetworkWire
        let network: Network
        let seed: UInt64?
        let input: Matrix
        /// Whether the input was a batch (an array of samples) rather than one sample.
        let batch: Bool
        let trace: Bool
    }

    static func read(
        _ body: JSONValue, limits: Limits, networks: ResolvedNetworks = ResolvedNetworks()
    ) throws(Problem) -> Request {
        let object = try Node(body).object(allowed: fields)
        let wire = try NetworkWire(object.required("network"), networks: networks)
        let traceRequested = try object.optional("trace")?.bool() ?? false
        let inputNode = try object.required("input")
        let (network, seed) = try wire.build(maximumParameters: limits.maximumParameters)
        let (input, batch) = try inputNode.samples(inputs: network.inputs)
        return Request(wire: wire, network: network, seed: seed, input: input, batch: batch, trace: traceRequested)
    }

    static func respond(
        to body: JSONValue, limits: Limits, networks: ResolvedNetworks = ResolvedNetworks()
    ) throws(Problem) -> JSONValue {
        let request = try read(body, limits: limits, networks: networks)
        let trace: [LayerTrace]
        do {
            trace = try request.network.forward(request.input)
        } catch {
            throw Problem(error, names: .sample(network: request.wire.pointer, batch: request.batch))
        }
        return answer(request, output: trace[trace.count - 1].output, trace: request.trace ? trace : nil)
    }

    /// The answer for a stored network without `trace`, its output computed by
    /// `inference` (batched with concurrent requests for the same version); nil when
    /// the body names no stored network, asks for a trace, or holds a full batch or
    /// more (`respond` serves those whole on the pool).
    static func respond(
        to body: JSONValue, limits: Limits, networks: ResolvedNetworks, inference: NetworkInference
    ) async throws -> JSONValue? {
        guard !networks.isEmpty else { return nil }
        let request = try read(body, limits: limits, networks: networks)
        guard let stored = request.wire.stored, !request.trace, inference.batches(rows: request.input.rows) else {
            return nil
        }
        let output: Matrix
        do {
            output = try await inference.output(stored, request.input)
        } catch let error as CoreError {
            throw Problem(error, names: .sample(network: request.wire.pointer, batch: request.batch))
        }
        return answer(request, output: output, trace: nil)
    }

    /// The output per sample, every layer's values with `trace`, and what produced them.
    static func answer(_ request: Request, output: Matrix, trace: [LayerTrace]?) -> JSONValue {
        let shorthand = request.wire.shorthand, last = request.network.layers.count - 1
        var fields: [(key: String, value: JSONValue)] = [
            ("output", output.perSample(batch: request.batch, scalar: shorthand[last]))
        ]
        if let trace {
            fields.append(
                ("layers", .array(trace.indices.map { index in
                    .object([
                        ("weighted_input", trace[index].weightedInput.perSample(batch: request.batch, scalar: shorthand[index])),
                        ("output", trace[index].output.perSample(batch: request.batch, scalar: shorthand[index])),
                    ])
                })))
        }
        appendGenerated(to: &fields, wire: request.wire, network: request.network, seed: request.seed)
        return .object(fields)
    }

    /// For a stored network, which version was used; for a network with generated
    /// layers, the seed used and the network itself, so the result can be reproduced.
    static func appendGenerated(
        to fields: inout [(key: String, value: JSONValue)], wire: NetworkWire, network: Network, seed: UInt64?
    ) {
        if let stored = wire.stored { fields.append(("stored_network", stored.referenceJSON)) }
        guard let seed else { return }
        fields.append(("seed", .unsigned(seed)))
        fields.append(("network", wire.json(network)))
    }
}
