import BackpropCore
import BackpropTestSupport
import Synchronization
import Testing

/// A small seeded training run to interrupt and resume.
struct CheckpointScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var network: Network
    var data: Dataset
    var validation: Dataset? = nil
    var configuration: TrainingConfiguration
    /// How the uninterrupted run must end, so the scenario tests what it says.
    var expectedStop: StopReason = .completed

    var testDescription: String { name }

    /// `samples` rows of `inputs` values in [−1, 1], targets in [0, 1].
    static func data(samples: Int, inputs: Int, outputs: Int, seed: UInt64) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        let x = randomMatrix(rows: samples, columns: inputs, limit: 1, using: &generator)
        var t = Matrix(rows: samples, columns: outputs)
        for i in t.storage.indices { t[element: i] = generator.nextUnit() }
        return Dataset(inputs: x, targets: t)
    }

    /// One-hot targets for a softmax output.
    static func classes(samples: Int, inputs: Int, classes: Int, seed: UInt64) -> Dataset {
        var generator = SeededGenerator(seed: seed)
        let x = randomMatrix(rows: samples, columns: inputs, limit: 1, using: &generator)
        var t = Matrix(rows: samples, columns: classes)
        for r in 0..<samples { t[r, generator.nextIndex(below: classes)] = 1 }
        return Dataset(inputs: x, targets: t)
    }

    /// The same inputs with targets 1 − t: training on one makes the other worse.
    static func opposed(_ set: Dataset) -> Dataset {
        var targets = set.targets
        for i in targets.storage.indices { targets[element: i] = 1 - targets[element: i] }
        return Dataset(inputs: set.inputs, targets: targets)
    }

    static func network(_ widths: [Int], _ activations: [Activation], bias: Bool = true, seed: UInt64 = 1) -> Network {
        try! Network(
            inputs: widths[0],
            layers: zip(widths.dropFirst(), activations).map { LayerSpec(units: $0, activation: $1, bias: bias) },
            seed: seed)
    }

    static let all: [CheckpointScenario] = {
        let regression = data(samples: 12, inputs: 3, outputs: 2, seed: 11)
        let small = network([3, 5, 2], [.tanh, .sigmoid])
        let stoppingData = data(samples: 10, inputs: 3, outputs: 2, seed: 12)
        let stopping = EarlyStopping(patience: 4, minDelta: 0, restoreBest: true)
        return [
            CheckpointScenario(
                name: "sgd, full batch, shuffled", network: small, data: regression,
                configuration: TrainingConfiguration(epochs: 40, learningRate: 0.5, seed: 3)),
            CheckpointScenario(
                name: "sgd momentum, mini-batches of 5 of 12, l2", network: small, data: regression,
                configuration: TrainingConfiguration(
                    epochs: 40, learningRate: 0.3, batchSize: 5, seed: 4, optimizer: .sgd(momentum: 0.9), l2: 0.01)),
            CheckpointScenario(
                name: "nesterov, online, l1 and l2", network: small, data: regression,
                configuration: TrainingConfiguration(
                    epochs: 30, learningRate: 0.2, batchSize: 1, seed: 5,
                    optimizer: .sgd(momentum: 0.8, nesterov: true), l1: 0.001, l2: 0.001)),
            CheckpointScenario(
                name: "adam, softmax and cross-entropy, validation set",
                network: network([4, 6, 3], [.relu, .softmax]), data: classes(samples: 16, inputs: 4, classes: 3, seed: 13),
                validation: classes(samples: 7, inputs: 4, classes: 3, seed: 14),
                configuration: TrainingConfiguration(
                    epochs: 40, learningRate: 0.01, batchSize: 4, seed: 6, loss: .crossEntropy, optimizer: .adam())),
            CheckpointScenario(
                name: "adam, unshuffled, no biases", network: network([3, 4, 2], [.elu, .sigmoid], bias: false),
                data: regression,
                configuration: TrainingConfiguration(
                    epochs: 30, learningRate: 0.05, batchSize: 5, shuffle: false, seed: 7, optimizer: .adam())),
            CheckpointScenario(
                name: "early stopping on validation, restore best", network: small, data: stoppingData,
                validation: opposed(stoppingData),
                configuration: TrainingConfiguration(
                    epochs: 200, learningRate: 0.5, batchSize: 3, seed: 8, optimizer: .sgd(momentum: 0.5),
                    earlyStopping: stopping),
                expectedStop: .earlyStopping),
            CheckpointScenario(
                name: "early stopping on validation, keep the last", network: small, data: stoppingData,
                validation: opposed(stoppingData),
                configuration: TrainingConfiguration(
                    epochs: 200, learningRate: 0.02, batchSize: 3, seed: 8, optimizer: .adam(),
                    earlyStopping: EarlyStopping(patience: 4, restoreBest: false)),
                expectedStop: .earlyStopping),
            CheckpointScenario(
                name: "early stopping on the training loss, min_delta", network: small, data: regression,
                configuration: TrainingConfiguration(
                    epochs: 300, learningRate: 0.1, batchSize: 4, seed: 9,
                    earlyStopping: EarlyStopping(patience: 3, minDelta: 1e-3)),
                expectedStop: .earlyStopping),
            CheckpointScenario(
                name: "2,500 epochs: a sampled history", network: network([2, 3, 1], [.tanh, .linear]),
                data: data(samples: 6, inputs: 2, outputs: 1, seed: 15),
                configuration: TrainingConfiguration(
                    epochs: 2500, learningRate: 0.05, batchSize: 4, seed: 10, optimizer: .sgd(momentum: 0.5))),
            CheckpointScenario(
                name: "diverging", network: network([3, 2], [.linear]), data: regression,
                configuration: TrainingConfiguration(epochs: 200, learningRate: 40, batchSize: 6, seed: 11),
                expectedStop: .diverged),
        ]
    }()
}

/// The checkpoints a run hands over.
final class SavedCheckpoints: Sendable {
    private let list = Mutex<[TrainingCheckpoint]>([])

    func append(_ checkpoint: TrainingCheckpoint) { list.withLock { $0.append(checkpoint) } }

    var all: [TrainingCheckpoint] { list.withLock { $0 } }
}

/// Every number of a result as its bits, so equal means bit for bit.
func bitPatterns(_ result: TrainingResult) -> [UInt64] {
    var bits: [UInt64] = []
    for layer in result.network.layers {
        bits += layer.weights.storage.map(\.bitPattern)
        bits += (layer.biases ?? []).map(\.bitPattern)
    }
    bits.append(result.loss.bitPattern)
    bits += result.history.loss.map(\.bitPattern)
    bits += (result.history.validationLoss ?? []).map(\.bitPattern)
    return bits
}

func expectBitIdentical(
    _ a: TrainingResult, _ b: TrainingResult, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(bitPatterns(a) == bitPatterns(b), sourceLocation: sourceLocation)
    #expect(a.validationLoss?.bitPattern == b.validationLoss?.bitPattern, sourceLocation: sourceLocation)
    #expect((a.history.validationLoss == nil) == (b.history.validationLoss == nil), sourceLocation: sourceLocation)
    #expect(a.history.epoch == b.history.epoch, sourceLocation: sourceLocation)
    #expect(a.network.layers.map(\.activation) == b.network.layers.map(\.activation), sourceLocation: sourceLocation)
    #expect(a.epochsRun == b.epochsRun, sourceLocation: sourceLocation)
    #expect(a.stopped == b.stopped, sourceLocation: sourceLocation)
}
