import BackpropCore
import BackpropTestSupport
import Testing

/// Backpropagation against central finite differences on networks of depth 1 to 3,
/// for every activation, both losses, with and without bias, one sample and a batch.
@Suite struct FiniteDifferenceTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var depth: Int
        var activation: Activation
        var loss: Loss
        var bias: Bool
        var batch: Int
        var testDescription: String {
            "depth \(depth), \(activation.rawValue), \(loss.rawValue), bias \(bias), batch \(batch)"
        }
    }

    /// Every activation as the output; the hidden layers rotate through the elementwise ones.
    /// Cross-entropy takes its two valid outputs (sigmoid, softmax).
    static let cases: [Case] = {
        var cases: [Case] = []
        for depth in 1...3 {
            for activation in Activation.allCases {
                for loss in Loss.allCases {
                    if loss == .crossEntropy, activation != .sigmoid, activation != .softmax { continue }
                    for bias in [false, true] {
                        for batch in [1, 3] {
                            cases.append(Case(depth: depth, activation: activation, loss: loss, bias: bias, batch: batch))
                        }
                    }
                }
            }
        }
        return cases
    }()

    @Test(arguments: cases)
    func gradientMatchesFiniteDifferences(_ c: Case) throws {
        let elementwise = Activation.allCases.filter(\.isElementwise)
        let seed = UInt64(c.depth * 1000 + c.batch * 100 + (c.bias ? 10 : 0))
            &+ UInt64(Activation.allCases.firstIndex(of: c.activation)!)
        let widths = [3] + (0..<(c.depth - 1)).map { 4 - $0 } + [c.activation == .softmax ? 3 : 2]
        let hidden = (0..<(c.depth - 1)).map {
            elementwise[(Activation.allCases.firstIndex(of: c.activation)! + $0 + 1) % elementwise.count]
        }
        let network = try randomNetwork(
            widths: widths, activations: hidden + [c.activation],
            bias: Array(repeating: c.bias, count: c.depth), seed: seed)
        var generator = SeededGenerator(seed: seed ^ 0xABCD)
        let input = randomMatrix(rows: c.batch, columns: 3, limit: 2, using: &generator)
        var target = randomMatrix(rows: c.batch, columns: widths.last!, limit: 1, using: &generator)
        if c.loss == .crossEntropy {
            for r in 0..<c.batch {
                let row = (0..<target.columns).map { abs(target[r, $0]) + 0.05 }
                let sum = row.reduce(0, +)
                for k in row.indices { target[r, k] = c.activation == .softmax ? row[k] / sum : min(row[k], 1) }
            }
        }
        let analytic = try network.gradient(input: input, target: target, loss: c.loss)
        let numeric = try NumericalGradient(network: network, input: input, target: target, loss: c.loss)
        for index in network.layers.indices {
            // Relative error with a floor of 1e-5 on the denominator: below that, the
            // rounding noise of the central difference (≈1e-11) dominates.
            let weightError = maxRelativeError(
                analytic.layers[index].weightGradient.storage, numeric.weights[index], floor: 1e-5)
            #expect(weightError < 1e-6, "layer \(index) weights")
            #expect((analytic.layers[index].biasGradient == nil) == !c.bias)
            if let bias = analytic.layers[index].biasGradient, let numericBias = numeric.biases[index] {
                #expect(maxRelativeError(bias, numericBias, floor: 1e-5) < 1e-6, "layer \(index) biases")
            }
        }
    }
}
