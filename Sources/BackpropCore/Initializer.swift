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

extension Network {
    /// A network of freshly initialised layers; the same seed gives the same weights.
    /// Layers are drawn in order from one generator seeded with `seed`.
    public init(
        inputs: Int, layers specs: [LayerSpec], initializer: Initializer = .auto, seed: UInt64
    ) throws(CoreError) {
        guard inputs > 0 else {
            throw CoreError(.invalidValue, "inputs must be at least 1", path: [.key("inputs")])
        }
        var generator = SeededGenerator(seed: seed)
        var layers: [Layer] = []
        var fanIn = inputs
        for (index, spec) in specs.enumerated() {
            guard spec.units > 0 else {
                throw CoreError(
                    .invalidValue, "units must be at least 1",
                    path: [.key("layers"), .index(index), .key("units")])
            }
            let weights = initializer.weights(
                inputs: fanIn, units: spec.units, activation: spec.activation, using: &generator)
            layers.append(
                Layer(
                    weights: weights, biases: spec.bias ? Array(repeating: 0, count: spec.units) : nil,
                    activation: spec.activation))
            fanIn = spec.units
        }
        try self.init(layers: layers)
    }
}
