import BackpropCore

/// POST /forward: the output per sample, and with `trace` every layer's h and f(h).
enum ForwardWire {
    static let fields: Set<String> = ["network", "input", "trace"]

    static func respond(
        to body: JSONValue, limits: Limits, networks: ResolvedNetworks = ResolvedNetworks()
    ) throws(Problem) -> JSONValue {
        let object = try Node(body).object(allowed: fields)
        let wire = try NetworkWire(object.required("network"), networks: networks)
        let traceRequested = try object.optional("trace")?.bool() ?? false
        let inputNode = try object.required("input")
        let (network, seed) = try wire.build(maximumParameters: limits.maximumParameters)
        let (input, batch) = try inputNode.samples(inputs: network.inputs)
        let trace: [LayerTrace]
        do {
            trace = try network.forward(input)
        } catch {
            throw Problem(error, names: .sample(network: wire.pointer, batch: batch))
        }
        let last = network.layers.count - 1
        var fields: [(key: String, value: JSONValue)] = [
            ("output", trace[last].output.perSample(batch: batch, scalar: wire.shorthand[last]))
        ]
        if traceRequested {
            fields.append(
                ("layers", .array(trace.indices.map { index in
                    .object([
                        ("weighted_input", trace[index].weightedInput.perSample(batch: batch, scalar: wire.shorthand[index])),
                        ("output", trace[index].output.perSample(batch: batch, scalar: wire.shorthand[index])),
                    ])
                })))
        }
        appendGenerated(to: &fields, wire: wire, network: network, seed: seed)
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
