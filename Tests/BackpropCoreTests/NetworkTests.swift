import BackpropCore
import Testing

@Suite struct NetworkTests {
    @Test func generatorMatchesTheReferenceStream() {
        // xoshiro256** seeded by SplitMix64(0); reference values from an independent
        // Python implementation of both generators.
        var generator = SeededGenerator(seed: 0)
        #expect(generator.next() == 0x99EC_5F36_CB75_F2B4)
        #expect(generator.next() == 0xBF6E_1F78_4956_452A)
        #expect(generator.next() == 0x1A5F_849D_4933_E6E0)
    }

    @Test func sameSeedSameWeights() throws {
        let specs = [LayerSpec(units: 5, activation: .relu), LayerSpec(units: 2, activation: .softmax)]
        let a = try Network(inputs: 3, layers: specs, seed: 42)
        let b = try Network(inputs: 3, layers: specs, seed: 42)
        let c = try Network(inputs: 3, layers: specs, seed: 43)
        #expect(a == b)
        #expect(a != c)
        #expect(a.layers[0].biases == [0, 0, 0, 0, 0])
        #expect(a.parameterCount == 3 * 5 + 5 + 5 * 2 + 2)
    }

    @Test(arguments: Initializer.allCases)
    func initializersStayInTheirBounds(_ initializer: Initializer) throws {
        let specs = [LayerSpec(units: 200, activation: .relu, bias: false)]
        let network = try Network(inputs: 100, layers: specs, initializer: initializer, seed: 1)
        let weights = network.layers[0].weights.storage
        let mean = weights.reduce(0, +) / Double(weights.count)
        let std = (weights.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(weights.count)).squareRoot()
        #expect(network.layers[0].biases == nil)
        #expect(abs(mean) < 0.01)
        let expectedStd: Double =
            switch initializer.resolved(for: .relu) {
            case .xavierUniform, .xavierNormal: (2.0 / 300).squareRoot()
            default: (2.0 / 100).squareRoot()
            }
        #expect(abs(std / expectedStd - 1) < 0.03, "std \(std), expected \(expectedStd)")
        if [.xavierUniform, .heUniform, .auto].contains(initializer) {
            let limit = expectedStd * 3.0.squareRoot()
            #expect(weights.allSatisfy { abs($0) <= limit })
        }
    }

    @Test func shapeErrorsNameTheLayer() {
        #expect(throws: CoreError(.shapeMismatch, "\(Location.layer(1, .weights)) has 3 rows, but \(Location.layer(0)) has 2 units",
                                  at: .layer(1, .weights))) {
            try Network(layers: [
                Layer(weights: Matrix(rows: 3, columns: 2)), Layer(weights: Matrix(rows: 3, columns: 1)),
            ])
        }
        #expect(throws: CoreError(.invalidActivation, "softmax is allowed only on the last layer",
                                  at: .layer(0, .activation))) {
            try Network(layers: [
                Layer(weights: Matrix(rows: 3, columns: 2), activation: .softmax),
                Layer(weights: Matrix(rows: 2, columns: 1)),
            ])
        }
        #expect(throws: CoreError(.invalidActivation, "softmax needs at least 2 units, not 1",
                                  at: .layer(0, .activation))) {
            try Network(layers: [Layer(weights: Matrix(rows: 3, columns: 1), activation: .softmax)])
        }
        #expect(throws: CoreError(.shapeMismatch, "\(Location.layer(0, .biases)) has 1 values, but the layer has 2 units",
                                  at: .layer(0, .biases))) {
            try Network(layers: [Layer(weights: Matrix(rows: 3, columns: 2), biases: [0])])
        }
    }

    @Test func crossEntropyNeedsAProbabilityOutput() throws {
        let network = try Network(layers: [Layer(weights: Matrix(rows: 2, columns: 1), activation: .relu)])
        #expect(throws: CoreError.self) {
            try network.gradient(input: Matrix(row: [1, 1]), target: Matrix(row: [1]), loss: .crossEntropy)
        }
    }

    @Test func batchRowsAreIndependentSamples() throws {
        let network = try Network(inputs: 3, layers: [LayerSpec(units: 4, activation: .tanh), LayerSpec(units: 2, activation: .softmax)], seed: 5)
        let batch = try Matrix([[0.1, 0.2, 0.3], [-1, 0.5, 2]])
        let together = try network.predict(batch)
        for r in 0..<2 {
            #expect(try network.predict(Matrix(row: batch.row(r))).storage == together.row(r))
        }
        #expect(together.rows == 2 && together.columns == 2)
    }
}
