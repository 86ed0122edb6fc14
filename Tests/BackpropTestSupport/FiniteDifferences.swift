import BackpropCore

/// Central finite differences of the mean loss with respect to every weight and
/// bias: (L(θ + s) − L(θ − s)) / 2s, one parameter at a time.
public struct NumericalGradient {
    public var weights: [[Double]]
    public var biases: [[Double]?]

    public init(
        network: Network, input: Matrix, target: Matrix, loss: Loss, step: Double = 1e-5
    ) throws {
        func meanLoss(_ layers: [Layer]) throws -> Double {
            try Network(layers: layers).gradient(input: input, target: target, loss: loss).loss
        }
        var weights: [[Double]] = []
        var biases: [[Double]?] = []
        let layers = network.layers
        for index in layers.indices {
            var w: [Double] = []
            for element in layers[index].weights.storage.indices {
                var plus = layers, minus = layers
                plus[index].weights[element: element] += step
                minus[index].weights[element: element] -= step
                w.append((try meanLoss(plus) - meanLoss(minus)) / (2 * step))
            }
            weights.append(w)
            guard let bias = layers[index].biases else {
                biases.append(nil)
                continue
            }
            var b: [Double] = []
            for element in bias.indices {
                var plus = layers, minus = layers
                plus[index].biases![element] += step
                minus[index].biases![element] -= step
                b.append((try meanLoss(plus) - meanLoss(minus)) / (2 * step))
            }
            biases.append(b)
        }
        self.weights = weights
        self.biases = biases
    }
}

/// A network of the given widths with weights uniform in [−1, 1] and biases in
/// [−0.5, 0.5] (or none), drawn from `seed`.
public func randomNetwork(
    widths: [Int], activations: [Activation], bias: [Bool], seed: UInt64
) throws -> Network {
    var generator = SeededGenerator(seed: seed)
    var layers: [Layer] = []
    for index in activations.indices {
        var weights = Matrix(rows: widths[index], columns: widths[index + 1])
        for i in weights.storage.indices { weights[element: i] = generator.nextUniform(limit: 1) }
        let biases = bias[index]
            ? (0..<widths[index + 1]).map { _ in generator.nextUniform(limit: 0.5) } : nil
        layers.append(Layer(weights: weights, biases: biases, activation: activations[index]))
    }
    return try Network(layers: layers)
}

/// A `rows × columns` matrix uniform in [−limit, limit], drawn from `generator`.
public func randomMatrix(
    rows: Int, columns: Int, limit: Double, using generator: inout SeededGenerator
) -> Matrix {
    var matrix = Matrix(rows: rows, columns: columns)
    for i in matrix.storage.indices { matrix[element: i] = generator.nextUniform(limit: limit) }
    return matrix
}
