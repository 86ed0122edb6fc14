/// A dense layer: h = x·W + b, y = f(h).
///
/// `weights` is `inputs × units` (numpy's layout, as in `np.dot(x, W)`). A layer
/// without `biases` has no bias at all: it is fixed at zero and never trained.
public struct Layer: Sendable, Equatable {
    public var weights: Matrix
    public var biases: [Double]?
    public var activation: Activation

    public init(weights: Matrix, biases: [Double]? = nil, activation: Activation = .sigmoid) {
        self.weights = weights
        self.biases = biases
        self.activation = activation
    }

    /// The number of inputs each unit takes: the rows of `weights`.
    public var inputs: Int { weights.rows }
    /// The number of units: the columns of `weights`.
    public var units: Int { weights.columns }
    /// Weights plus biases.
    public var parameterCount: Int { weights.storage.count + (biases?.count ?? 0) }
}
