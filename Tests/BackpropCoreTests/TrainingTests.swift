@testable import BackpropCore
import BackpropTestSupport
import Testing

@Suite struct TrainingTests {
    static let xor = Dataset(
        inputs: try! Matrix([[0, 0], [0, 1], [1, 0], [1, 1]]),
        targets: try! Matrix([[0], [1], [1], [0]]))

    static func xorNetwork() throws -> Network {
        try Network(inputs: 2, layers: [LayerSpec(units: 4), LayerSpec(units: 1)], seed: 7)
    }

    static let xorConfiguration = TrainingConfiguration(
        epochs: 3000, learningRate: 2, batchSize: 4, seed: 7, optimizer: .sgd(momentum: 0.9))

    @Test func learnsXOR() throws {
        let result = try Trainer(Self.xorConfiguration).train(Self.xorNetwork(), on: Self.xor)
        #expect(result.loss < 0.01)
        #expect(result.stopped == .completed)
        #expect(result.epochsRun == 3000)
        let output = try result.network.predict(Self.xor.inputs)
        for r in 0..<4 { #expect(abs(output[r, 0] - Self.xor.targets[r, 0]) < 0.2) }
        // The reported loss is the data loss of the returned network.
        let check = try result.network.gradient(input: Self.xor.inputs, target: Self.xor.targets, loss: .squaredError)
        #expect(check.loss == result.loss)
    }

    @Test func sameSeedIsBitIdentical() throws {
        var configuration = Self.xorConfiguration
        configuration.epochs = 300
        configuration.batchSize = 1
        let first = try Trainer(configuration).train(Self.xorNetwork(), on: Self.xor)
        let second = try Trainer(configuration).train(Self.xorNetwork(), on: Self.xor)
        #expect(first == second)
        configuration.seed = 8  // another shuffle order gives other numbers
        let third = try Trainer(configuration).train(Self.xorNetwork(), on: Self.xor)
        #expect(third.network != first.network)
    }

    @Test func hugeLearningRateDivergesAndReturnsTheLastFiniteNetwork() throws {
        let network = try Network(layers: [Layer(weights: Matrix([[0.5], [-0.5]]), biases: [0], activation: .linear)])
        let data = Dataset(inputs: try Matrix([[1, 2], [3, 4], [-1, 1]]), targets: try Matrix([[1], [2], [0]]))
        let result = try Trainer(TrainingConfiguration(epochs: 1000, learningRate: 1e6, seed: 1)).train(network, on: data)
        #expect(result.stopped == .diverged)
        #expect(result.epochsRun < 1000)
        #expect(result.network.isFinite)
        #expect(result.loss.isFinite)
        #expect(result.history.epoch.last == result.epochsRun)
        if result.epochsRun > 0 { #expect(result.history.epoch.count == result.epochsRun) }
    }

    @Test func earlyStoppingRestoresTheBestNetwork() throws {
        // Training pulls w towards +1/x; validation wants the opposite, so the best
        // validation loss is the initial network's.
        let network = try Network(layers: [Layer(weights: Matrix(row: [0]), activation: .linear)])
        let train = Dataset(inputs: Matrix(row: [1]), targets: Matrix(row: [1]))
        let validation = Dataset(inputs: Matrix(row: [1]), targets: Matrix(row: [-1]))
        var configuration = TrainingConfiguration(epochs: 100, learningRate: 0.1, earlyStopping: EarlyStopping(patience: 5))
        let result = try Trainer(configuration).train(network, on: train, validation: validation)
        #expect(result.stopped == .earlyStopping)
        #expect(result.epochsRun == 5)
        #expect(result.network == network)
        #expect(result.validationLoss == 0.5)
        #expect(result.history.validationLoss?.count == 5)
        configuration.earlyStopping?.restoreBest = false
        let last = try Trainer(configuration).train(network, on: train, validation: validation)
        #expect(last.network != network)
        #expect(last.validationLoss! > 0.5)
    }

    @Test func zeroLearningRateStopsAfterPatience() throws {
        let configuration = TrainingConfiguration(epochs: 50, learningRate: 0, earlyStopping: EarlyStopping())
        let result = try Trainer(configuration).train(Self.xorNetwork(), on: Self.xor)
        #expect(result.stopped == .earlyStopping)
        #expect(result.epochsRun == 10)
    }

    @Test func historyIsSampledToAThousandPointsWithTheLastEpoch() throws {
        let network = try Network(layers: [Layer(weights: Matrix(row: [0]), activation: .linear)])
        let data = Dataset(inputs: Matrix(row: [1]), targets: Matrix(row: [1]))
        let result = try Trainer(TrainingConfiguration(epochs: 2500, learningRate: 0.001)).train(network, on: data)
        #expect(result.history.epoch.count == 1000)
        #expect(result.history.epoch.first == 3)  // round(1 · 2500 / 1000) = round(2.5)
        #expect(result.history.epoch[1] == 5)
        #expect(result.history.epoch.last == 2500)
        #expect(result.history.loss.count == 1000)
        #expect(result.history.validationLoss == nil)
        let short = try Trainer(TrainingConfiguration(epochs: 7)).train(network, on: data)
        #expect(short.history.epoch == Array(1...7))
    }

    @Test func zeroEpochsReturnTheNetworkUnchanged() throws {
        let network = try Self.xorNetwork()
        let result = try Trainer(TrainingConfiguration(epochs: 0)).train(network, on: Self.xor)
        #expect(result.network == network)
        #expect(result.epochsRun == 0)
        #expect(result.history.epoch.isEmpty)
        #expect(result.loss > 0)
    }

    @Test func cancellationStopsBeforeTheNextBatch() throws {
        let flag = CancellationFlag()
        var seen: [Int] = []
        let result = try Trainer(TrainingConfiguration(epochs: 100, batchSize: 1)).train(
            Self.xorNetwork(), on: Self.xor, cancellation: flag
        ) { progress in
            seen.append(progress.epoch)
            if progress.epoch == 3 { flag.cancel() }
        }
        #expect(result.stopped == .cancelled)
        #expect(result.epochsRun == 3)
        #expect(seen == [1, 2, 3])
    }

    /// Mini-batches, the partial last one averaged over its own size, match
    /// gradient steps taken by hand with the core's gradient.
    @Test func miniBatchesMatchManualSteps() throws {
        let network = try randomNetwork(widths: [2, 3, 1], activations: [.tanh, .linear], bias: [true, true], seed: 3)
        let data = Dataset(
            inputs: try Matrix([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6], [-0.7, 0.8], [0.9, 1.0]]),
            targets: try Matrix([[1], [0], [1], [0], [0.5]]))
        let lr = 0.3
        var manual = network
        for rows in [0..<2, 2..<4, 4..<5] {
            let input = try Matrix(rows.map { data.inputs.row($0) })
            let target = try Matrix(rows.map { data.targets.row($0) })
            let step = try manual.gradient(input: input, target: target, loss: .squaredError)
            var layers = manual.layers
            for index in layers.indices {
                for i in layers[index].weights.storage.indices {
                    layers[index].weights[element: i] -= lr * step.layers[index].weightGradient[element: i]
                }
                for i in layers[index].biases!.indices {
                    layers[index].biases![i] -= lr * step.layers[index].biasGradient![i]
                }
            }
            manual = try Network(layers: layers)
        }
        let result = try Trainer(TrainingConfiguration(epochs: 1, learningRate: lr, batchSize: 2, shuffle: false))
            .train(network, on: data)
        for (a, b) in zip(result.network.layers, manual.layers) {
            #expect(maxAbsoluteError(a.weights.storage, b.weights.storage) < 1e-15)
            #expect(maxAbsoluteError(a.biases!, b.biases!) < 1e-15)
        }
    }

    /// Products split across threads sum every element whole, in the same order.
    @Test func threadsDoNotChangeABit() throws {
        var generator = SeededGenerator(seed: 21)
        // The first layer's products (128 × 400 × 330) are past the size that is split.
        let inputs = randomMatrix(rows: 256, columns: 400, limit: 1, using: &generator)
        var targets = Matrix(rows: 256, columns: 3)
        for r in 0..<256 { targets[r, generator.nextIndex(below: 3)] = 1 }
        #expect(128 * 400 * 330 >= Kernels.splitThreshold)
        let network = try Network(
            inputs: 400, layers: [LayerSpec(units: 330, activation: .relu), LayerSpec(units: 3, activation: .softmax)], seed: 4)
        var configuration = TrainingConfiguration(epochs: 2, learningRate: 0.05, batchSize: 128, seed: 5, loss: .crossEntropy)
        let one = try Trainer(configuration).train(network, on: Dataset(inputs: inputs, targets: targets))
        configuration.threads = 2
        let two = try Trainer(configuration).train(network, on: Dataset(inputs: inputs, targets: targets))
        configuration.threads = 3
        let three = try Trainer(configuration).train(network, on: Dataset(inputs: inputs, targets: targets))
        #expect(one == two)
        #expect(one == three)
        #expect(one.network != network)
    }

    /// The full-set loss shares its chunks out among threads and adds the chunks' sums in
    /// order: the same bits as one thread, which sums each chunk from 0 and adds them in turn.
    @Test(arguments: [1, 2, 3, 5])
    func theFullSetLossIsTheSameForAnyThreadCount(threads: Int) throws {
        var generator = SeededGenerator(seed: 22)
        let samples = 301, capacity = 32  // 10 chunks, the last of 13 samples
        let set = Dataset(
            inputs: randomMatrix(rows: samples, columns: 7, limit: 2, using: &generator),
            targets: randomMatrix(rows: samples, columns: 3, limit: 1, using: &generator))
        let network = try Network(
            inputs: 7, layers: [LayerSpec(units: 5, activation: .tanh), LayerSpec(units: 3, activation: .linear)],
            seed: 6)
        var expected = 0.0
        for start in stride(from: 0, to: samples, by: capacity) {
            var chunk = 0.0
            for r in start..<min(start + capacity, samples) {
                let output = try network.predict(Matrix([Array(set.inputs.storage[r * 7..<(r + 1) * 7])]))
                for j in 0..<3 {
                    let difference = set.targets[r, j] - output[0, j]
                    chunk += 0.5 * difference * difference
                }
            }
            expected += chunk
        }
        let engine = Engine(parameters: Parameters(network), capacity: capacity)
        engine.threads = threads
        let loss = engine.meanLoss(Parameters(network), on: set, loss: .squaredError)
        #expect(abs(loss - expected / Double(samples)) < 1e-12)
        engine.threads = 1
        #expect(loss == engine.meanLoss(Parameters(network), on: set, loss: .squaredError))
        #expect(engine.lossLayers.count == min(threads, 10) - 1)
    }

    @Test func invalidSettingsNameTheirField() throws {
        let network = try Self.xorNetwork()
        #expect(throws: CoreError(.invalidValue, "\(Location.setting(.batchSize)) must be at least 1", at: .setting(.batchSize))) {
            try Trainer(TrainingConfiguration(batchSize: 0)).train(network, on: Self.xor)
        }
        let badTargets = Dataset(inputs: Self.xor.inputs, targets: try Matrix([[0], [1], [2], [0]]))
        #expect(throws: CoreError.self) {
            try Trainer(TrainingConfiguration(loss: .crossEntropy)).train(network, on: badTargets)
        }
        do {
            _ = try Trainer(TrainingConfiguration(loss: .crossEntropy)).train(network, on: badTargets)
        } catch {
            #expect(error.location == .data(.training, .targets, row: 2))
            #expect(error.code == .invalidTarget)
        }
    }
}
