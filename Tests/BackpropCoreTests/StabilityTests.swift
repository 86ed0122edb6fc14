import BackpropCore
import Testing

/// Sigmoid, softmax, softplus and cross-entropy at ±1000 and ±1e308: finite, at the right limits.
@Suite struct StabilityTests {
    @Test(arguments: [1000.0, 1e308])
    func sigmoidAndSoftplusSaturate(_ h: Double) {
        #expect(Activation.sigmoid(h) == 1)
        #expect(Activation.sigmoid(-h) == 0)
        #expect(Activation.softplus(h) == h)
        #expect(Activation.softplus(-h) == 0)
        for activation in Activation.allCases where activation.isElementwise {
            #expect(activation.value(h).isFinite, "\(activation) at \(h)")
            #expect(activation.value(-h).isFinite, "\(activation) at \(-h)")
            #expect(activation.derivative(h, output: activation.value(h)).isFinite)
            #expect(activation.derivative(-h, output: activation.value(-h)).isFinite)
        }
    }

    /// A one-layer network whose weighted input is exactly `h` (input 1, weights h).
    func network(_ h: [Double], _ activation: Activation) throws -> Network {
        try Network(layers: [Layer(weights: Matrix(row: h), activation: activation)])
    }

    @Test(arguments: [1000.0, 1e308])
    func softmaxSaturates(_ h: Double) throws {
        let output = try network([h, -h, 0], .softmax).predict(Matrix(row: [1]))
        #expect(output.storage == [1, 0, 0])
        let tie = try network([h, h], .softmax).predict(Matrix(row: [1]))
        #expect(tie.storage == [0.5, 0.5])
    }

    @Test(arguments: [1000.0, 1e308])
    func binaryCrossEntropyStaysFinite(_ h: Double) throws {
        let net = try network([h], .sigmoid)
        // Right: loss → 0; wrong: loss → h, the exact limit of −ln(1 − σ(h)).
        let right = try net.gradient(input: Matrix(row: [1]), target: Matrix(row: [1]), loss: .crossEntropy)
        let wrong = try net.gradient(input: Matrix(row: [1]), target: Matrix(row: [0]), loss: .crossEntropy)
        #expect(right.loss == 0)
        #expect(wrong.loss == h)
        #expect(right.layers[0].errorTerm[0, 0] == 0)
        #expect(wrong.layers[0].errorTerm[0, 0] == -1)
    }

    @Test func categoricalCrossEntropyStaysFinite() throws {
        let net = try network([1000, -1000], .softmax)
        let right = try net.gradient(input: Matrix(row: [1]), target: Matrix(row: [1, 0]), loss: .crossEntropy)
        let wrong = try net.gradient(input: Matrix(row: [1]), target: Matrix(row: [0, 1]), loss: .crossEntropy)
        #expect(right.loss == 0)
        #expect(wrong.loss == 2000)
        #expect(wrong.layers[0].errorTerm.storage == [-1, 1])
        let extreme = try network([1e308, -1e308], .softmax)
        let soft = try extreme.gradient(input: Matrix(row: [1]), target: Matrix(row: [0.9, 0.1]), loss: .crossEntropy)
        #expect(abs(soft.loss - 2e307) <= 1e293)  // 0.1 · 2e308, though 2e308 itself is beyond a double
        let huge = try network([1e308, 0], .softmax)
        let hugeWrong = try huge.gradient(input: Matrix(row: [1]), target: Matrix(row: [0, 1]), loss: .crossEntropy)
        #expect(hugeWrong.loss == 1e308)
    }

    @Test func overflowIsReportedNamingTheLayer() throws {
        let net = try Network(layers: [
            Layer(weights: Matrix(row: [1e308]), activation: .linear),
            Layer(weights: Matrix(row: [10]), activation: .linear),
        ])
        #expect(throws: CoreError(.nonFinite, "layer 1 overflows: its values are not finite", at: .layer(1))) {
            try net.forward(Matrix(row: [1]))
        }
    }
}
