import BackpropClient
import Foundation
import Testing

/// The compute operations through the client, against a server on a socket; every
/// number is compared exactly with the server's answers documented in openapi.yaml.
@Suite struct ComputeTests {
    @Test func seedSingleNeuronGradientIsExact() async throws {
        try await withLiveClient { api in
            let step = try await api.gradient(.init(
                network: .init(layers: [.given(weights: [0.5, -0.5, 0.3, 0.1])]),
                input: .sample([1, 2, 3, 4]), target: 0.5, learningRate: 0.5
            ))
            #expect(step.output.tensor == .scalar(0.6899744811276125))
            #expect(step.error.tensor == .scalar(-0.1899744811276125))
            #expect(step.loss == 0.0180451517398528)
            #expect(step.layers.count == 1)
            let layer = try #require(step.layers.first)
            #expect(layer.errorTerm.tensor == .scalar(-0.04063738360460799))
            #expect(layer.weightGradient.tensor == .vector([0.04063738360460799, 0.08127476720921598, 0.12191215081382396, 0.16254953441843195]))
            #expect(layer.weightDelta.tensor == .vector([-0.020318691802303994, -0.04063738360460799, -0.06095607540691198, -0.08127476720921598]))
            // A layer given without biases has none, and none is reported.
            #expect(layer.biasGradient == nil && layer.biasDelta == nil)
            #expect(step.seed == nil && step.network == nil)
        }
    }

    @Test func seedHiddenLayerGradientIsExact() async throws {
        try await withLiveClient { api in
            let step = try await api.gradient(.init(
                network: Examples.hiddenLayerNetwork, input: .sample([0.5, 0.1, -0.2]), target: 0.6, learningRate: 0.5
            ))
            #expect(step.output.tensor == .scalar(0.4849734308499254))
            #expect(step.error.tensor == .scalar(0.11502656915007459))
            #expect(step.loss == 0.006615555805218445)
            #expect(step.layers.count == 2)
            let (hidden, output) = (step.layers[0], step.layers[1])
            #expect(hidden.errorTerm.tensor == .vector([0.0007080221865494133, -0.0020447140239508617]))
            #expect(hidden.weightGradient.tensor == .matrix([
                [-0.00035401109327470664, 0.0010223570119754308],
                [-7.080221865494133e-05, 0.00020447140239508618],
                [0.00014160443730988265, -0.00040894280479017236],
            ]))
            #expect(hidden.weightDelta.tensor == .matrix([
                [0.00017700554663735332, -0.0005111785059877154],
                [3.540110932747066e-05, -0.00010223570119754309],
                [-7.080221865494133e-05, 0.00020447140239508618],
            ]))
            #expect(output.errorTerm.tensor == .scalar(0.028730669543515004))
            #expect(output.weightGradient.tensor == .vector([-0.01608094789609058, -0.011118361823365657]))
            #expect(output.weightDelta.tensor == .vector([0.00804047394804529, 0.0055591809116828286]))
        }
    }

    @Test func forwardWithTraceIsExact() async throws {
        try await withLiveClient { api in
            let answer = try await api.forward(.init(
                network: Examples.hiddenLayerNetwork, input: .sample([0.5, 0.1, -0.2]), trace: true
            ))
            #expect(answer.output.tensor == .scalar(0.4849734308499254))
            let layers = try #require(answer.layers)
            #expect(layers.count == 2)
            #expect(layers[0].weightedInput.tensor == .vector([0.24000000000000002, -0.46]))
            #expect(layers[0].output.tensor == .vector([0.5597136492671929, 0.38698582386066455]))
            #expect(layers[1].weightedInput.tensor == .scalar(-0.06012438223148007))
            #expect(layers[1].output.tensor == .scalar(0.4849734308499254))
        }
    }

    @Test func forwardBatchKeepsItsLeadingDimension() async throws {
        try await withLiveClient { api in
            let batch = try await api.forward(.init(
                network: Examples.hiddenLayerNetwork, input: .batch([[0.5, 0.1, -0.2], [1, 0, 1]])
            ))
            #expect(batch.output.tensor == .vector([0.4849734308499254, 0.47678467278466663]))
            #expect(batch.layers == nil)
            // A batch of one is a batch: a vector of one output, not a number.
            let one = try await api.forward(.init(network: Examples.hiddenLayerNetwork, input: .batch([[0.5, 0.1, -0.2]])))
            #expect(one.output.tensor == .vector([0.4849734308499254]))
            // A two-unit output layer, for a batch: a matrix, one row per sample.
            let wide = try await api.forward(.init(
                network: .init(layers: [.given(weights: [[1, 0], [0, 1]], biases: [0, 0], activation: .linear)]),
                input: .batch([[1, 2], [3, 4]])
            ))
            #expect(wide.output.tensor == .matrix([[1, 2], [3, 4]]))
        }
    }

    @Test func trainXORIsExactAndItsNetworkCanBeSentBack() async throws {
        try await withLiveClient { api in
            let trained = try await api.train(Examples.xor)
            #expect(trained.epochsRun == 40)
            #expect(trained.loss == 0.0034743523580545313)
            #expect(trained.stopped == .completed)
            #expect(trained.seed == 7)
            #expect(trained.history.epoch == Array(1...40))
            #expect(trained.history.loss.count == 40)
            #expect(trained.history.loss.first == 0.6952195594791439)
            #expect(trained.history.loss.last == 0.0034743523580545313)
            #expect(trained.validationLoss == nil)
            let layers = trained.network.layers
            #expect(layers.count == 2)
            #expect(layers[0].weights.tensor == .matrix([
                [-5.187668078516949, -3.137086920881937, -4.351833447325485, 2.661623279151903],
                [3.905004952306595, 4.5551952446521735, -4.678041361698381, -5.2162559059057605],
            ]))
            #expect(layers[0].biases?.tensor == .vector([-1.418972759404748, 1.691026177007782, 1.043705970392989, -0.5966305540887802]))
            #expect(layers[0].activation == .tanh)
            #expect(layers[1].weights.tensor == .vector([5.152730027986553, -3.4061036818361607, -3.699773189388602, 2.6433729635200423]))
            #expect(layers[1].biases?.tensor == .scalar(2.428265918963865))
            #expect(layers[1].activation == .sigmoid)

            // The trained network, sent back as it came, computes XOR, and its
            // cross-entropy on the training set is the reported loss.
            let step = try await api.gradient(.init(
                network: .init(trained.network), input: .batch([[0, 0], [0, 1], [1, 0], [1, 1]]),
                target: .vector([0, 1, 1, 0]), loss: .crossEntropy
            ))
            let outputs = try #require(step.output.tensor.vector)
            #expect(outputs.map { $0.rounded() } == [0, 1, 1, 0])
            #expect(abs(step.loss - trained.loss) <= 1e-15)
        }
    }

    @Test func generatedLayersReportTheirSeedAndNetwork() async throws {
        try await withLiveClient { api in
            let request = BackpropClient.ForwardRequest(
                network: .init(inputs: 3, layers: [.generated(units: 2, activation: .relu), .generated(units: 1, bias: false)], seed: 42),
                input: .sample([1, -1, 0.5])
            )
            let first = try await api.forward(request)
            #expect(first.seed == 42)
            let network = try #require(first.network)
            #expect(network.layers[0].weights.tensor.matrix?.count == 3)
            #expect(network.layers[1].weights.tensor.vector?.count == 2)
            #expect(network.layers[1].biases == nil)
            // The echoed network, given explicitly, gives the same output bit for bit.
            let again = try await api.forward(.init(network: .init(network), input: .sample([1, -1, 0.5])))
            #expect(again.output == first.output)
            #expect(again.seed == nil)
        }
    }
}
