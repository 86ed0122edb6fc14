import BackpropCore
import Foundation

/// POST /train: gradient descent over a data set, returning the trained network.
struct TrainWire: Sendable {
    static let fields: Set<String> = [
        "network", "inputs", "targets", "epochs", "learning_rate", "batch_size", "shuffle", "seed", "loss",
        "optimizer", "l1", "l2", "validation", "early_stopping", "save_as",
    ]

    var wire: NetworkWire
    var network: Network
    var data: Dataset
    var validation: Dataset?
    var configuration: TrainingConfiguration
    /// `save_as`: the name to store the trained network under when training succeeds.
    var saveAs: String?

    /// About the memory a job of this training holds: its data, and its network three
    /// times over while it trains (weights, gradients, and optimizer state or results).
    var memoryFootprint: Int {
        let numbers = data.inputs.storage.count + data.targets.storage.count
            + (validation.map { $0.inputs.storage.count + $0.targets.storage.count } ?? 0)
        return (numbers + 3 * network.parameterCount) * 8
    }

    /// Reads and checks a /train body, including the synchronous work budget when
    /// `budget` is given (training jobs pass nil).
    init(
        _ body: JSONValue, limits: Limits, budget: Int?, networks: ResolvedNetworks = ResolvedNetworks()
    ) throws(Problem) {
        let object = try Node(body).object(allowed: Self.fields)
        wire = try NetworkWire(object.required("network"), networks: networks)
        if let saveNode = object.optional("save_as") {
            saveAs = try NetworkName.checked(try saveNode.string(), pointer: saveNode.pointer.description)
        }
        let inputsNode = try object.required("inputs")
        let targetsNode = try object.required("targets")
        var configuration = TrainingConfiguration()
        configuration.epochs = try object.optional("epochs")?.integer(in: 0...TrainingConfiguration.maximumEpochs) ?? 100
        configuration.learningRate = try Self.nonNegative(object.optional("learning_rate")) ?? 0.1
        configuration.batchSize = try object.optional("batch_size")?.integer(in: 1...Int(Int32.max))
        configuration.shuffle = try object.optional("shuffle")?.bool() ?? true
        configuration.seed = try object.optional("seed")?.seed() ?? Node.randomSeed()
        configuration.loss = try object.optional("loss")?.name(Loss.self, what: "loss") ?? .squaredError
        configuration.optimizer = try object.optional("optimizer").map(Self.optimizer) ?? .sgd()
        configuration.l1 = try Self.nonNegative(object.optional("l1")) ?? 0
        configuration.l2 = try Self.nonNegative(object.optional("l2")) ?? 0
        if let stopping = object.optional("early_stopping") {
            let fields = try stopping.object(allowed: ["patience", "min_delta", "restore_best"])
            configuration.earlyStopping = EarlyStopping(
                patience: try fields.optional("patience")?.integer(in: 1...Int(Int32.max)) ?? 10,
                minDelta: try Self.nonNegative(fields.optional("min_delta")) ?? 0,
                restoreBest: try fields.optional("restore_best")?.bool() ?? true)
        }
        self.configuration = configuration
        (network, _) = try wire.build(maximumParameters: limits.maximumParameters, defaultSeed: configuration.seed)
        data = try Self.dataset(
            inputsNode, targetsNode, network: network, wire: wire, loss: configuration.loss, role: .training)
        if let validationNode = object.optional("validation") {
            let fields = try validationNode.object(allowed: ["inputs", "targets"])
            validation = try Self.dataset(
                fields.required("inputs"), fields.required("targets"), network: network, wire: wire,
                loss: configuration.loss, role: .validation)
        }
        if let budget {
            let samples = data.inputs.rows + (validation?.inputs.rows ?? 0)
            let work = Self.estimatedWork(
                epochs: configuration.epochs, samples: samples, parameters: network.parameterCount)
            if work > Double(budget) {
                throw Problem.unprocessable(
                    "Too much work for a synchronous request",
                    "this training is about \(String(format: "%.3g", work)) units of work (epochs × (samples × (parameters + 64) + 1000)), over this server's synchronous budget of \(budget); send it to POST /train/jobs instead",
                    at: JSONPointer(["epochs"]))
            }
        }
    }

    /// The work of a training run, in units of about a nanosecond:
    /// epochs × (samples × (parameters + 64) + 1000), where 64 and 1000 stand for the
    /// fixed costs per sample and per epoch (shuffling, losses, history), which
    /// dominate for tiny networks.
    static func estimatedWork(epochs: Int, samples: Int, parameters: Int) -> Double {
        Double(epochs) * (Double(samples) * Double(parameters + 64) + 1000)
    }

    private static func nonNegative(_ node: Node?) throws(Problem) -> Double? {
        guard let node else { return nil }
        let value = try node.double()
        guard value >= 0 else { throw node.invalid("Invalid value", "must be ≥ 0, not \(value)") }
        return value
    }

    private static func dataset(
        _ inputs: Node, _ targets: Node, network: Network, wire: NetworkWire, loss: Loss, role: Location.DataSet
    ) throws(Problem) -> Dataset {
        let (matrix, batch) = try inputs.samples(inputs: network.inputs, columnForOneInput: true)
        guard matrix.rows > 0 else { throw inputs.invalid("Invalid value", "holds no samples") }
        guard matrix.columns == network.inputs else {
            throw inputs.invalid(
                "Shape mismatch", "has \(matrix.columns) values per sample, but the network takes \(network.inputs)")
        }
        let targetMatrix = try targets.targets(samples: matrix.rows, batch: batch, units: network.outputs)
        if !batch {
            // One sample: check its target here, so a fault names the target itself, not a row.
            do {
                try network.checkTarget(targetMatrix, samples: 1, loss: loss)
            } catch {
                let error = role == .validation ? error.relocated { $0.inValidation() } : error
                throw Problem(error, names: .training(network: wire.pointer, batch: false))
            }
        }
        return Dataset(inputs: matrix, targets: targetMatrix)
    }

    /// `"sgd"`, `"adam"`, `{"name": "sgd", "momentum", "nesterov"}` or
    /// `{"name": "adam", "beta1", "beta2", "epsilon"}`.
    private static func optimizer(_ node: Node) throws(Problem) -> Optimizer {
        enum Name: String, CaseIterable { case sgd, adam }
        if case .string = node.value {
            return try node.name(Name.self, what: "optimizer") == .sgd ? .sgd() : .adam()
        }
        guard case .object = node.value else { throw node.typeError("a string or an object") }
        let name = try node.object(allowed: ["name", "momentum", "nesterov", "beta1", "beta2", "epsilon"])
            .required("name").name(Name.self, what: "optimizer")
        let optimizer: Optimizer
        switch name {
        case .sgd:
            let fields = try node.object(allowed: ["name", "momentum", "nesterov"])
            optimizer = .sgd(
                momentum: try fields.optional("momentum")?.double() ?? 0,
                nesterov: try fields.optional("nesterov")?.bool() ?? false)
        case .adam:
            let fields = try node.object(allowed: ["name", "beta1", "beta2", "epsilon"])
            optimizer = .adam(
                beta1: try fields.optional("beta1")?.double() ?? 0.9,
                beta2: try fields.optional("beta2")?.double() ?? 0.999,
                epsilon: try fields.optional("epsilon")?.double() ?? 1e-8)
        }
        do {
            try optimizer.validate()
        } catch {
            throw Problem(error)
        }
        return optimizer
    }

    /// Trains; `progress` is called after every epoch. A job resumes from its last
    /// checkpoint and takes new ones through `checkpoints`.
    func run(
        resumingFrom checkpoint: TrainingCheckpoint? = nil, cancellation: CancellationFlag?,
        checkpoints: CheckpointHooks? = nil, progress: (EpochProgress) -> Void = { _ in }
    ) throws(Problem) -> TrainingResult {
        do {
            return try Trainer(configuration).train(
                network, on: data, validation: validation, resumingFrom: checkpoint, cancellation: cancellation,
                checkpoints: checkpoints, progress: progress)
        } catch {
            throw Problem(error, names: .training(network: wire.pointer))
        }
    }

    /// The /train response for a result.
    func json(_ result: TrainingResult, durationMilliseconds: Double) -> JSONValue {
        var fields: [(key: String, value: JSONValue)] = [
            ("network", wire.json(result.network)),
            ("epochs_run", .unsigned(UInt64(result.epochsRun))),
            ("loss", .number(result.loss)),
        ]
        if let validationLoss = result.validationLoss { fields.append(("validation_loss", .number(validationLoss))) }
        var history: [(key: String, value: JSONValue)] = [
            ("epoch", .numbers(result.history.epoch.map(Double.init))),
            ("loss", .numbers(result.history.loss)),
        ]
        if let validationLoss = result.history.validationLoss { history.append(("validation_loss", .numbers(validationLoss))) }
        fields.append(("history", .object(history)))
        fields.append(("stopped", .string(result.stopped.rawValue)))
        fields.append(("seed", .unsigned(configuration.seed)))
        fields.append(("duration_ms", .number(durationMilliseconds)))
        if let stored = wire.stored { fields.append(("stored_network", stored.referenceJSON)) }
        return .object(fields)
    }
}
