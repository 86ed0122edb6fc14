import BackpropCore
import Foundation

/// An MLP epoch's shape (`--shape`), as Benchmarks/peers/mlp_data.py defines it for the peers.
struct MLPShape {
    var name: String, sizes: [Int], hidden: Activation, softmax: Bool, batch: Int, samples: Int

    static let all = [
        // 784-128-10, relu then softmax, cross-entropy, batch 64, 8,192 samples (issue 15's target 1).
        MLPShape(name: "mnist", sizes: [784, 128, 10], hidden: .relu, softmax: true, batch: 64, samples: 8192),
        // 2-64-64-64-1, tanh then linear, squared error, batch 32, 4,096 samples: per-batch overhead.
        MLPShape(name: "narrow", sizes: [2, 64, 64, 64, 1], hidden: .tanh, softmax: false, batch: 32, samples: 4096),
        // 784-1024-10, relu then softmax, cross-entropy, batch 128, 8,192 samples: the products.
        MLPShape(name: "wide", sizes: [784, 1024, 10], hidden: .relu, softmax: true, batch: 128, samples: 8192),
    ]
}

let mlpShape: MLPShape = {
    let name = arguments.firstIndex(of: "--shape").map { arguments[$0 + 1] } ?? "mnist"
    guard let shape = MLPShape.all.first(where: { $0.name == name }) else {
        FileHandle.standardError.write(Data("--shape: one of \(MLPShape.all.map(\.name))\n".utf8))
        exit(2)
    }
    return shape
}()

/// The MLP of `--shape` (784-128-10 unless told), sgd at 0.01, synthetic samples
/// (inputs uniform in [0, 1), targets one-hot or uniform), one epoch per run.
func mlpRun() throws -> (network: Network, data: Dataset, configuration: TrainingConfiguration) {
    let shape = mlpShape
    let inputs = shape.sizes[0], outputs = shape.sizes.last!
    var generator = SeededGenerator(seed: 1)
    var x = Matrix(rows: shape.samples, columns: inputs)
    for i in 0..<x.storage.count { x[element: i] = generator.nextUnit() }
    var y = Matrix(rows: shape.samples, columns: outputs)
    for r in 0..<shape.samples {
        if shape.softmax {
            y[r, generator.nextIndex(below: outputs)] = 1
        } else {
            for c in 0..<outputs { y[r, c] = generator.nextUnit() }
        }
    }
    let layers = shape.sizes.dropFirst().enumerated().map { index, units in
        LayerSpec(
            units: units,
            activation: index == shape.sizes.count - 2 ? (shape.softmax ? .softmax : .linear) : shape.hidden)
    }
    let network = try Network(inputs: inputs, layers: layers, seed: 1)
    var configuration = TrainingConfiguration(
        epochs: 1, learningRate: 0.01, batchSize: shape.batch, shuffle: true, seed: 1,
        loss: shape.softmax ? .crossEntropy : .squaredError)
    configuration.threads = threads  // numpy's OpenBLAS uses both cores too
    return (network, Dataset(inputs: x, targets: y), configuration)
}

/// Target 1: an epoch of the MLP over its synthetic samples, with the end-of-epoch
/// loss over the whole set: the peers' per-epoch work. One run of `repetitions` + 1
/// epochs; each time is from one epoch's end (its progress report) to the next's, so
/// it holds the shuffle, the batches and the full-set loss, and not the run's setup
/// nor its loss of the initial network, which the peers do not compute.
func mlp() throws {
    var (network, data, configuration) = try mlpRun()
    configuration.epochs = repetitions + 1
    let trainer = Trainer(configuration)
    var ends: [ContinuousClock.Instant] = []
    var loss = 0.0
    _ = try trainer.train(network, on: data) { progress in
        ends.append(.now)
        if progress.epoch == 1 { loss = progress.loss }
    }
    let times = zip(ends, ends.dropFirst()).map { start, end in
        let elapsed = end - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
    let epoch = median(times)
    let flops = 6.0 * Double(network.parameterCount) * Double(data.inputs.rows)
    report([
        "benchmark": "mlp_epoch", "shape": mlpShape.name, "kernel": matrixKernelName, "threads": threads,
        "seconds": epoch, "gflops": flops / epoch / 1e9, "loss": loss,
    ])
}
