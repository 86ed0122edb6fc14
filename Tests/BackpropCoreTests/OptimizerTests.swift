import Foundation
import BackpropCore
import Testing

/// Each optimizer's first two steps on E = ½(t − w·x)², worked out by hand with the
/// same arithmetic as PyTorch's SGD and Adam, and compared exactly.
@Suite struct OptimizerTests {
    let x = 2.0, t = 1.0, w0 = 0.25, lr = 0.1

    /// ∂E/∂w = −(t − w·x)·x.
    func gradient(_ w: Double) -> Double { -((t - w * x) * x) }

    func train(_ optimizer: Optimizer, epochs: Int = 2, l1: Double = 0, l2: Double = 0) throws -> Double {
        let network = try Network(layers: [Layer(weights: Matrix(row: [w0]), activation: .linear)])
        let trainer = Trainer(
            TrainingConfiguration(
                epochs: epochs, learningRate: lr, shuffle: false, optimizer: optimizer, l1: l1, l2: l2))
        let result = try trainer.train(
            network, on: Dataset(inputs: Matrix(row: [x]), targets: Matrix(row: [t])))
        return result.network.layers[0].weights[0, 0]
    }

    @Test func plainSGD() throws {
        let w1 = w0 - lr * gradient(w0)
        #expect(w1 == 0.35)  // g = −(1 − 0.5)·2 = −1
        #expect(try train(.sgd(), epochs: 2) == w1 - lr * gradient(w1))
    }

    @Test func momentum() throws {
        let mu = 0.9
        let v1 = gradient(w0)
        let w1 = w0 - lr * v1
        let v2 = mu * v1 + gradient(w1)
        let w2 = w1 - lr * v2
        #expect(try train(.sgd(momentum: mu)) == w2)
        #expect(w2 != w1 - lr * gradient(w1))  // momentum made a difference
    }

    @Test func nesterov() throws {
        let mu = 0.9
        let v1 = gradient(w0)
        let w1 = w0 - lr * (gradient(w0) + mu * v1)
        let g1 = gradient(w1)
        let v2 = mu * v1 + g1
        let w2 = w1 - lr * (g1 + mu * v2)
        #expect(try train(.sgd(momentum: mu, nesterov: true)) == w2)
    }

    @Test func adam() throws {
        let (b1, b2, eps) = (0.9, 0.999, 1e-8)
        var m = 0.0, v = 0.0, w = w0
        for step in 1...2 {
            let g = gradient(w)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            let stepSize = lr / (1 - pow(b1, Double(step)))
            let denominator = v.squareRoot() / (1 - pow(b2, Double(step))).squareRoot() + eps
            w -= stepSize * (m / denominator)
            if step == 1 { #expect(abs(w - (w0 + lr)) < 1e-8) }  // the first Adam step is ≈ lr·sign
        }
        #expect(try train(.adam(beta1: b1, beta2: b2, epsilon: eps)) == w)
    }

    @Test func penaltiesAddToTheGradientBeforeTheOptimizer() throws {
        let (l1, l2) = (0.03, 0.2)
        let expected = w0 - lr * (gradient(w0) + (l2 * w0 + l1 * 1))
        #expect(try train(.sgd(), epochs: 1, l1: l1, l2: l2) == expected)
    }

    @Test func invalidHyperparametersAreRejectedWithTheirPath() {
        #expect(throws: CoreError(.invalidValue, "\(Location.setting(.momentum)) must be in [0, 1)", at: .setting(.momentum))) {
            try Optimizer.sgd(momentum: 1).validate()
        }
        #expect(throws: CoreError(.invalidValue, "\(Location.setting(.epsilon)) must be above 0", at: .setting(.epsilon))) {
            try Optimizer.adam(epsilon: 0).validate()
        }
    }
}
