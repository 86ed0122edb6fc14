import BackpropCore

/// POST /gradient: one backpropagation step, without changing the network.
public enum GradientWire {
    static let fields: Set<String> = ["network", "input", "target", "learning_rate", "loss"]

    public static func respond(to body: JSONValue, limits: Limits) throws(Problem) -> JSONValue {
        try respond(to: body, limits: limits, networks: ResolvedNetworks())
    }

    static func respond(to body: JSONValue, limits: Limits, networks: ResolvedNetworks) throws(Problem) -> JSONValue {
        let object = try Node(body).object(allowed: fields)
        let wire = try NetworkWire(object.required("network"), networks: networks)
        let inputNode = try object.required("input")
        let targetNode = try object.required("target")
        let learningRateNode = object.optional("learning_rate")
        let learningRate = try learningRateNode?.double() ?? 0.1
        if let learningRateNode, learningRate < 0 {
            throw learningRateNode.invalid("Invalid value", "must be ≥ 0, not \(learningRate)")
        }
        let loss = try object.optional("loss")?.name(Loss.self, what: "loss") ?? .squaredError
        let (network, seed) = try wire.build(maximumParameters: limits.maximumParameters)
        let last = network.layers.count - 1
        let (input, batch) = try inputNode.samples(inputs: network.inputs)
        if input.columns != network.inputs {
            throw inputNode.invalid(
                "Shape mismatch", "has \(input.columns) values per sample, but the network takes \(network.inputs)")
        }
        let target = try targetNode.targets(samples: input.rows, batch: batch, units: network.outputs)
        let names = WireNames.sample(network: wire.pointer, batch: batch)
        let result: GradientResult
        do {
            result = try network.gradient(input: input, target: target, loss: loss)
        } catch {
            throw Problem(error, names: names)
        }
        for (index, layer) in result.layers.enumerated() {
            let overflows = { (gradient: Double) in !(learningRate * gradient).isFinite }
            if layer.weightGradient.storage.contains(where: overflows) || layer.biasGradient?.contains(where: overflows) == true {
                throw Problem(
                    CoreError(
                        .nonFinite, "the weight deltas of layer \(index) overflow: learning_rate × gradient is not finite",
                        at: .layer(index)),
                    names: names)
            }
        }
        let outputScalar = wire.shorthand[last]
        var error = target  // target's last use: its buffer becomes the error's, with no copy
        for i in 0..<error.storage.count { error[element: i] -= result.output.storage[i] }
        if !error.isFinite {
            throw Problem.unprocessable("Result is not finite", "target − output overflows", at: JSONPointer(["target"]))
        }
        var fields: [(key: String, value: JSONValue)] = [
            ("output", result.output.perSample(batch: batch, scalar: outputScalar)),
            ("error", error.perSample(batch: batch, scalar: outputScalar)),
            ("loss", .number(result.loss)),
            ("layers", .array(result.layers.indices.map { index in
                layerJSON(result.layers[index], scalar: wire.shorthand[index], batch: batch, learningRate: learningRate)
            })),
        ]
        ForwardWire.appendGenerated(to: &fields, wire: wire, network: network, seed: seed)
        return .object(fields)
    }

    static func layerJSON(_ layer: LayerGradient, scalar: Bool, batch: Bool, learningRate: Double) -> JSONValue {
        var fields: [(key: String, value: JSONValue)] = [
            ("error_term", layer.errorTerm.perSample(batch: batch, scalar: scalar)),
            ("weight_gradient", layer.weightGradient.weightsJSON(scalar: scalar)),
            ("weight_delta", layer.weightGradient.scaled(by: -learningRate).weightsJSON(scalar: scalar)),
        ]
        if let bias = layer.biasGradient {
            let delta = bias.map { -learningRate * $0 }
            fields.append(("bias_gradient", scalar ? .number(bias[0]) : .numbers(bias)))
            fields.append(("bias_delta", scalar ? .number(delta[0]) : .numbers(delta)))
        }
        return .object(fields)
    }
}
