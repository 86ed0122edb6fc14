/// Gradient descent over a data set: epochs of (shuffled) mini-batches, an
/// optimizer, l1/l2 penalties, validation, early stopping and divergence checks.
///
/// The loop runs on preallocated buffers (one `Engine`), so an epoch allocates
/// nothing per batch or sample. Everything random comes from `configuration.seed`,
/// so the same call gives bit-identical results.
public struct Trainer: Sendable {
    public var configuration: TrainingConfiguration

    public init(_ configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// Trains a copy of `network` and returns it with its losses.
    ///
    /// - Parameters:
    ///   - cancellation: checked before every batch; once raised, the run returns
    ///     the network of the last whole epoch with `stopped == .cancelled`.
    ///   - progress: called after every epoch.
    public func train(
        _ network: Network, on data: Dataset, validation: Dataset? = nil,
        cancellation: CancellationFlag? = nil, progress: (EpochProgress) -> Void = { _ in }
    ) throws(CoreError) -> TrainingResult {
        let config = configuration
        try check(network, data: data, validation: validation)
        let samples = data.inputs.rows
        let batch = min(config.batchSize ?? samples, samples)
        let parameters = Parameters(network)
        let engine = Engine(parameters: parameters, capacity: batch)
        engine.threads = max(1, config.threads)
        let optimizer = OptimizerState(
            config.optimizer, learningRate: config.learningRate, parameters: parameters)
        let batchInputs = Buffer(count: batch * network.inputs)
        let batchTargets = Buffer(count: batch * network.outputs)
        var order = Array(0..<samples)
        var generator = SeededGenerator(seed: config.seed)

        func meanLoss(_ set: Dataset) -> Double {
            engine.meanLoss(parameters, on: set, loss: config.loss)
        }
        var current = (loss: meanLoss(data), validation: validation.map(meanLoss))
        guard current.loss.isFinite, current.validation?.isFinite ?? true else {
            throw CoreError(.nonFinite, "the loss of the initial network is not finite", path: [.key("network")])
        }
        let lastFinite = Parameters(zerosLike: parameters)
        lastFinite.copy(from: parameters)
        var best = (epoch: 0, losses: current, parameters: nil as Parameters?)
        if let stopping = config.earlyStopping, stopping.restoreBest {
            best.parameters = Parameters(zerosLike: parameters)
            best.parameters!.copy(from: parameters)
        }
        var sampler = HistorySampler(epochs: config.epochs, hasValidation: validation != nil)
        var epochsRun = 0
        var stopped = StopReason.completed
        var epochsWithoutImprovement = 0

        training: for epoch in stride(from: 1, through: config.epochs, by: 1) {
            if config.shuffle { order.shuffle(using: &generator) }
            for start in stride(from: 0, to: samples, by: batch) {
                if cancellation?.isCancelled == true {
                    stopped = .cancelled
                    break training
                }
                let size = min(batch, samples - start)
                data.inputs.gatherRows(order[start..<start + size], into: batchInputs.pointer)
                data.targets.gatherRows(order[start..<start + size], into: batchTargets.pointer)
                engine.forward(parameters, input: batchInputs.pointer, batch: size)
                engine.backward(
                    parameters, input: batchInputs.pointer, target: batchTargets.pointer, batch: size,
                    loss: config.loss)
                applyPenalties(parameters, gradients: engine.gradients)
                optimizer.update(parameters, gradients: engine.gradients)
            }
            let losses = (loss: meanLoss(data), validation: validation.map(meanLoss))
            guard losses.loss.isFinite, losses.validation?.isFinite ?? true, parameters.isFinite else {
                stopped = .diverged
                break
            }
            current = losses
            epochsRun = epoch
            lastFinite.copy(from: parameters)
            let isPoint = sampler.record(epoch: epoch, loss: losses.loss, validationLoss: losses.validation)
            progress(
                EpochProgress(
                    epoch: epoch, epochs: config.epochs, loss: losses.loss,
                    validationLoss: losses.validation, isHistoryPoint: isPoint))
            guard let stopping = config.earlyStopping else { continue }
            let watched = losses.validation ?? losses.loss
            if watched < (best.losses.validation ?? best.losses.loss) - stopping.minDelta {
                best.epoch = epoch
                best.losses = losses
                best.parameters?.copy(from: parameters)
                epochsWithoutImprovement = 0
            } else {
                epochsWithoutImprovement += 1
                if epochsWithoutImprovement >= stopping.patience {
                    stopped = .earlyStopping
                    break
                }
            }
        }
        sampler.finish(epoch: epochsRun, loss: current.loss, validationLoss: current.validation)
        var returned = (parameters: lastFinite, losses: current)
        if stopped == .earlyStopping, let bestParameters = best.parameters {
            returned = (bestParameters, best.losses)
        }
        return TrainingResult(
            network: returned.parameters.network, epochsRun: epochsRun, loss: returned.losses.loss,
            validationLoss: returned.losses.validation, history: sampler.history, stopped: stopped)
    }

    /// Throws, with the path of the field at fault, unless the run can start.
    private func check(_ network: Network, data: Dataset, validation: Dataset?) throws(CoreError) {
        try configuration.validate()
        try configuration.loss.check(outputActivation: network.outputActivation)
        for (name, set) in [("", data), ("validation", validation)] {
            guard let set else { continue }
            let prefix: [CoreError.PathElement] = name.isEmpty ? [] : [.key(name)]
            guard set.inputs.rows > 0 else {
                throw CoreError(.invalidValue, "there are no samples", path: prefix + [.key("inputs")])
            }
            guard set.inputs.columns == network.inputs else {
                throw CoreError(
                    .shapeMismatch,
                    "each sample has \(set.inputs.columns) values, but the network takes \(network.inputs)",
                    path: prefix + [.key("inputs")])
            }
            guard set.inputs.isFinite else {
                throw CoreError(.invalidValue, "an input is not finite", path: prefix + [.key("inputs")])
            }
            do {
                try network.checkTarget(set.targets, samples: set.inputs.rows, loss: configuration.loss)
            } catch {
                let rest = error.path.dropFirst()  // "target" → "targets"
                throw CoreError(error.code, error.message, path: prefix + [.key("targets")] + rest)
            }
        }
    }

    /// Adds ∂/∂W of l1·Σ|W| + (l2/2)·ΣW², that is l1·sign(W) + l2·W, to the weight gradients.
    private func applyPenalties(_ parameters: Parameters, gradients: Parameters) {
        let l1 = configuration.l1, l2 = configuration.l2
        guard l1 != 0 || l2 != 0 else { return }
        for (weights, gradient) in zip(parameters.weights, gradients.weights) {
            let w = weights.pointer, g = gradient.pointer
            for i in 0..<weights.count {
                let sign: Double = w[i] > 0 ? 1 : (w[i] < 0 ? -1 : 0)
                g[i] += l2 * w[i] + l1 * sign
            }
        }
    }
}

extension Matrix {
    /// Copies the rows at `indices`, in order, into `target`.
    func gatherRows(_ indices: ArraySlice<Int>, into target: UnsafeMutablePointer<Double>) {
        storage.withUnsafeBufferPointer { source in
            var destination = target
            for index in indices {
                destination.update(from: source.baseAddress! + index * columns, count: columns)
                destination += columns
            }
        }
    }
}

extension Engine {
    /// The mean loss over a whole data set, in chunks of up to `capacity` samples.
    func meanLoss(_ parameters: Parameters, on set: Dataset, loss: Loss) -> Double {
        var total = 0.0
        set.inputs.storage.withUnsafeBufferPointer { inputs in
            set.targets.storage.withUnsafeBufferPointer { targets in
                for start in stride(from: 0, to: set.inputs.rows, by: capacity) {
                    let size = min(capacity, set.inputs.rows - start)
                    forward(parameters, input: inputs.baseAddress! + start * set.inputs.columns, batch: size)
                    total += lossSum(
                        target: targets.baseAddress! + start * set.targets.columns, batch: size, loss: loss)
                }
            }
        }
        return total / Double(set.inputs.rows)
    }
}
