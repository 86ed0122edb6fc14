import BackpropCore
import BackpropTestSupport
import Testing

/// The two computations of the seed notebook (API.md, "Worked examples"), to 1e-12.
@Suite struct SeedTests {
    @Test func singleSigmoidNeuronStep() throws {
        let network = try Network(layers: [
            Layer(weights: Matrix(column: [0.5, -0.5, 0.3, 0.1]), activation: .sigmoid)
        ])
        let result = try network.gradient(
            input: Matrix(row: [1, 2, 3, 4]), target: Matrix(row: [0.5]), loss: .squaredError)
        let learningRate = 0.5
        #expect(abs(result.output[0, 0] - 0.6899744811276125) < 1e-12)
        #expect(abs((0.5 - result.output[0, 0]) - -0.1899744811276125) < 1e-12)
        #expect(abs(result.layers[0].errorTerm[0, 0] - -0.04063738360460799) < 1e-12)
        let delta = result.layers[0].weightGradient.storage.map { -learningRate * $0 }
        let expected = [-0.02031869180230399, -0.04063738360460799, -0.06095607540691198, -0.08127476720921598]
        #expect(result.layers[0].weightGradient.rows == 4)
        #expect(result.layers[0].weightGradient.columns == 1)
        #expect(maxAbsoluteError(delta, expected) < 1e-12)
        #expect(result.layers[0].biasGradient == nil)
    }

    @Test func oneHiddenLayerStep() throws {
        let network = try Network(layers: [
            Layer(weights: Matrix([[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]])),
            Layer(weights: Matrix(column: [0.1, -0.3])),
        ])
        let result = try network.gradient(
            input: Matrix(row: [0.5, 0.1, -0.2]), target: Matrix(row: [0.6]), loss: .squaredError)
        #expect(abs(result.output[0, 0] - 0.48497343084992534) < 1e-12)
        #expect(abs((0.6 - result.output[0, 0]) - 0.11502656915007464) < 1e-12)
        #expect(abs(result.layers[1].errorTerm[0, 0] - 0.028730669543515018) < 1e-12)
        #expect(maxAbsoluteError(result.layers[0].errorTerm.storage, [0.00070802218654941, -0.00204471402395086]) < 1e-12)
        let outputDelta = result.layers[1].weightGradient.storage.map { -0.5 * $0 }
        #expect(maxAbsoluteError(outputDelta, [0.00804047394804529, 0.00555918091168283]) < 1e-12)
        let hiddenDelta = result.layers[0].weightGradient.storage.map { -0.5 * $0 }
        let expected = [
            1.7700554663735340e-04, -5.1117850598771553e-04,
            3.5401109327470683e-05, -1.0223570119754312e-04,
            -7.0802218654941366e-05, 2.0447140239508623e-04,
        ]
        #expect(result.layers[0].weightGradient.rows == 3 && result.layers[0].weightGradient.columns == 2)
        #expect(maxAbsoluteError(hiddenDelta, expected) < 1e-12)
        // The trace holds the seed's hidden_layer_input and hidden_layer_output.
        #expect(abs(result.trace[0].weightedInput[0, 0] - (0.5 * 0.5 + 0.1 * 0.1 - 0.2 * 0.1)) < 1e-15)
    }
}
