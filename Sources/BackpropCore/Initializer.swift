/// How a generated layer's weights are drawn. Biases start at zero.
public enum Initializer: String, Sendable, CaseIterable {
    /// He uniform for relu, leaky_relu and elu; Xavier uniform for the rest.
    case auto
    /// U(−l, l) with l = √(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010).
    case xavierUniform = "xavier_uniform"
    /// N(0, σ²) with σ = √(2 / (fan_in + fan_out)).
    case xavierNormal = "xavier_normal"
    /// U(−l, l) with l = √(6 / fan_in) (He et al., 2015).
    case heUniform = "he_uniform"
    /// N(0, σ²) with σ = √(2 / fan_in).
    case heNormal = "he_normal"

    /// The concrete scheme `auto` stands for, given the layer's activation.
    public func resolved(for activation: Activation) -> Initializer {
        guard self == .auto else { return self }
        switch activation {
        case .relu, .leakyRelu, .elu: return .heUniform
        default: return .xavierUniform
        }
    }

    /// An `inputs × units` weight matrix drawn from `generator`, row by row.
    public func weights(
        inputs: Int, units: Int, activation: Activation, using generator: inout SeededGenerator
    ) -> Matrix {
        let fanIn = Double(inputs), fanOut = Double(units)
        var matrix = Matrix(rows: inputs, columns: units)
        for i in 0..<matrix.storage.count {
            matrix.storage[i] =
                switch resolved(for: activation) {
                case .auto, .xavierUniform:
                    generator.nextUniform(limit: (6 / (fanIn + fanOut)).squareRoot())
                case .xavierNormal: generator.nextNormal() * (2 / (fanIn + fanOut)).squareRoot()
                case .heUniform: generator.nextUniform(limit: (6 / fanIn).squareRoot())
                case .heNormal: generator.nextNormal() * (2 / fanIn).squareRoot()
                }
        }
        return matrix
    }
}

/// A layer to generate: its size, activation and whether it has a bias.
public struct LayerSpec: Sendable, Equatable {
    public var units: Int
    public var activation: Activation
    public var bias: Bool

    public init(units: Int, activation: Activation = .sigmoid, bias: Bool = true) {
        self.units = units
        self.activation = activation
        self.bias = bias
    }
}

/// A layer as a network description gives it: with its numbers, or to generate.
public enum LayerBlueprint: Sendable, Equatable {
    case given(Layer)
    case generated(LayerSpec)

    /// The layer's unit count.
    public var units: Int {
        switch self {
        case .given(let layer): layer.units
        case .generated(let spec): spec.units
        }
    }
}

extension Network {
    /// A network of freshly initialised layers; the same seed gives the same weights.
    public init(
        inputs: Int, layers specs: [LayerSpec], initializer: Initializer = .auto, seed: UInt64
    ) throws(CoreError) {
        try self.init(inputs: inputs, blueprints: specs.map(LayerBlueprint.generated), initializer: initializer, seed: seed)
    }

    /// A network of given and generated layers. Generated layers are drawn in
    /// order from one generator seeded with `seed`; given layers keep their numbers.
    ///
    /// `inputs` is required when the first layer is generated; otherwise it is
    /// implied by the first weight matrix and, if given, must agree with it.
    public init(
        inputs: Int?, blueprints: [LayerBlueprint], initializer: Initializer = .auto, seed: UInt64
    ) throws(CoreError) {
        let fanIn = try Self.inputCount(inputs, blueprints: blueprints)
        var generator = SeededGenerator(seed: seed)
        var layers: [Layer] = []
        var previous = fanIn
        for (index, blueprint) in blueprints.enumerated() {
            switch blueprint {
            case .given(let layer):
                layers.append(layer)
            case .generated(let spec):
                guard spec.units > 0 else {
                    throw CoreError(
                        .invalidValue, "units must be at least 1", at: .layer(index, .units))
                }
                let weights = initializer.weights(
                    inputs: previous, units: spec.units, activation: spec.activation, using: &generator)
                layers.append(
                    Layer(
                        weights: weights, biases: spec.bias ? Array(repeating: 0, count: spec.units) : nil,
                        activation: spec.activation))
            }
            previous = blueprint.units
        }
        try self.init(layers: layers)
    }

    /// The parameter count the blueprints would give, or nil if it overflows `Int`,
    /// checked before anything is allocated.
    public static func parameterCount(inputs: Int?, blueprints: [LayerBlueprint]) throws(CoreError) -> Int? {
        var previous = try inputCount(inputs, blueprints: blueprints)
        var total = 0
        for blueprint in blueprints {
            let units = blueprint.units
            let bias =
                switch blueprint {
                case .given(let layer): layer.biases?.count ?? 0
                case .generated(let spec): spec.bias ? units : 0
                }
            let (weights, overflow) = previous.multipliedReportingOverflow(by: max(units, 0))
            guard !overflow else { return nil }
            let (sum, overflow2) = total.addingReportingOverflow(weights)
            guard !overflow2 else { return nil }
            total = sum + bias
            previous = units
        }
        return total
    }

    private static func inputCount(_ inputs: Int?, blueprints: [LayerBlueprint]) throws(CoreError) -> Int {
        guard let first = blueprints.first else {
            throw CoreError(.invalidValue, "a network needs at least one layer", at: .layers)
        }
        switch (first, inputs) {
        case (.given(let layer), let inputs?) where inputs != layer.inputs:
            throw CoreError(
                .shapeMismatch,
                "\(Location.networkInputs) is \(inputs), but \(Location.layer(0, .weights)) has \(layer.inputs) rows",
                at: .networkInputs)
        case (.given(let layer), _):
            return layer.inputs
        case (.generated, let inputs?):
            guard inputs > 0 else {
                throw CoreError(.invalidValue, "\(Location.networkInputs) must be at least 1", at: .networkInputs)
            }
            return inputs
        case (.generated, nil):
            throw CoreError(
                .invalidValue, "\(Location.networkInputs) is required when the first layer is generated",
                at: .networkInputs)
        }
    }
}
