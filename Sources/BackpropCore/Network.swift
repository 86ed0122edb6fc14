/// A feed-forward network of dense layers, validated on construction.
///
/// Once built, every layer's shape fits the next, softmax stands only on the last
/// layer with at least two units, and every parameter is finite.
public struct Network: Sendable, Equatable {
    public private(set) var layers: [Layer]

    /// Checks and builds a network; throws with the location of the first fault
    /// (for example layer 1's weights).
    public init(layers: [Layer]) throws(CoreError) {
        guard !layers.isEmpty else {
            throw CoreError(.invalidValue, "a network needs at least one layer", at: .layers)
        }
        for (index, layer) in layers.enumerated() {
            let weights = Location.layer(index, .weights), biases = Location.layer(index, .biases)
            guard layer.inputs > 0, layer.units > 0 else {
                throw CoreError(
                    .shapeMismatch, "\(weights) is empty", at: weights)
            }
            if index > 0, layer.inputs != layers[index - 1].units {
                throw CoreError(
                    .shapeMismatch,
                    "\(weights) has \(layer.inputs) rows, but \(Location.layer(index - 1)) has \(layers[index - 1].units) units",
                    at: weights)
            }
            guard layer.weights.isFinite else {
                throw CoreError(
                    .invalidValue, "\(weights) holds a non-finite number", at: weights)
            }
            if let values = layer.biases {
                guard values.count == layer.units else {
                    throw CoreError(
                        .shapeMismatch,
                        "\(biases) has \(values.count) values, but the layer has \(layer.units) units",
                        at: biases)
                }
                guard values.allFinite else {
                    throw CoreError(
                        .invalidValue, "\(biases) holds a non-finite number", at: biases)
                }
            }
            if layer.activation == .softmax {
                guard index == layers.count - 1 else {
                    throw CoreError(
                        .invalidActivation, "softmax is allowed only on the last layer",
                        at: .layer(index, .activation))
                }
                guard layer.units >= 2 else {
                    throw CoreError(
                        .invalidActivation, "softmax needs at least 2 units, not \(layer.units)",
                        at: .layer(index, .activation))
                }
            }
        }
        self.layers = layers
    }

    /// Builds without checks: for the core's own results, which keep the shapes.
    init(unchecked layers: [Layer]) {
        self.layers = layers
    }

    /// The number of inputs per sample.
    public var inputs: Int { layers[0].inputs }
    /// The number of outputs per sample.
    public var outputs: Int { layers[layers.count - 1].units }
    /// The output layer's activation.
    public var outputActivation: Activation { layers[layers.count - 1].activation }
    /// All weights and biases.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameterCount } }

    /// True when every weight and bias is finite.
    public var isFinite: Bool {
        layers.allSatisfy { $0.weights.isFinite && ($0.biases?.allFinite ?? true) }
    }
}
