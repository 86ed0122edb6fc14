/// A request's `network`: given in full, or a stored network by name. A `Network`
/// value is accepted wherever a request takes one (the initializers below), and
/// `.named("xor")` names a stored one.
extension Components.Schemas.NetworkOrReference {
    /// A stored network: its latest version, or `version`.
    public static func named(_ name: String, version: Int? = nil) -> Self {
        .NetworkReference(.init(name: name, version: version))
    }
}

extension Components.Schemas.ForwardRequest {
    public init(network: Components.Schemas.Network, input: Components.Schemas.Samples, trace: Bool? = nil) {
        self.init(network: .Network(network), input: input, trace: trace)
    }
}

extension Components.Schemas.GradientRequest {
    public init(
        network: Components.Schemas.Network, input: Components.Schemas.Samples, target: Components.Schemas.Target,
        learningRate: Double? = nil, loss: Components.Schemas.Loss? = nil
    ) {
        self.init(network: .Network(network), input: input, target: target, learningRate: learningRate, loss: loss)
    }
}

extension Components.Schemas.TrainRequest {
    public init(
        network: Components.Schemas.Network, inputs: Components.Schemas.Samples, targets: Components.Schemas.Target,
        epochs: Int? = nil, learningRate: Double? = nil, batchSize: Int? = nil, shuffle: Bool? = nil,
        seed: Components.Schemas.SeedOrNull? = nil, loss: Components.Schemas.Loss? = nil,
        optimizer: Components.Schemas.Optimizer? = nil, l1: Double? = nil, l2: Double? = nil,
        validation: Components.Schemas.Validation? = nil, earlyStopping: Components.Schemas.EarlyStopping? = nil,
        saveAs: String? = nil
    ) {
        self.init(
            network: .Network(network), inputs: inputs, targets: targets, epochs: epochs, learningRate: learningRate,
            batchSize: batchSize, shuffle: shuffle, seed: seed, loss: loss, optimizer: optimizer, l1: l1, l2: l2,
            validation: validation, earlyStopping: earlyStopping, saveAs: saveAs)
    }
}
