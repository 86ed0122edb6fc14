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
            try Self.checkLayer(
                index, of: layers.count, inputs: layer.inputs, units: layer.units,
                previousUnits: index > 0 ? layers[index - 1].units : nil,
                weightsAreFinite: layer.weights.isFinite, biases: layer.biases.map { ($0.count, $0.allFinite) },
                activation: layer.activation)
        }
        self.layers = layers
    }

    /// The rules for layer `index` of `count`, in the order they are checked: its weights
    /// are not empty, their rows match the previous layer's units, they are finite; its
    /// biases (their count and whether all are finite) match its units and are finite;
    /// softmax stands only on the last layer, with at least two units.
    package static func checkLayer(
        _ index: Int, of count: Int, inputs: Int, units: Int, previousUnits: Int?, weightsAreFinite: Bool,
        biases: (count: Int, areFinite: Bool)?, activation: Activation
    ) throws(CoreError) {
        let weights = Location.layer(index, .weights), biasLocation = Location.layer(index, .biases)
        guard inputs > 0, units > 0 else {
            throw CoreError(.shapeMismatch, "\(weights) is empty", at: weights)
        }
        if let previousUnits, inputs != previousUnits {
            throw CoreError(
                .shapeMismatch,
                "\(weights) has \(inputs) rows, but \(Location.layer(index - 1)) has \(previousUnits) units",
                at: weights)
        }
        guard weightsAreFinite else {
            throw CoreError(.invalidValue, "\(weights) holds a non-finite number", at: weights)
        }
        if let biases {
            guard biases.count == units else {
                throw CoreError(
                    .shapeMismatch, "\(biasLocation) has \(biases.count) values, but the layer has \(units) units",
                    at: biasLocation)
            }
            guard biases.areFinite else {
                throw CoreError(.invalidValue, "\(biasLocation) holds a non-finite number", at: biasLocation)
            }
        }
        if activation == .softmax {
            guard index == count - 1 else {
                throw CoreError(
                    .invalidActivation, "softmax is allowed only on the last layer", at: .layer(index, .activation))
            }
            guard units >= 2 else {
                throw CoreError(
                    .invalidActivation, "softmax needs at least 2 units, not \(units)", at: .layer(index, .activation))
            }
        }
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
