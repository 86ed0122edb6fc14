/// Gradient descent over a data set: epochs of (shuffled) mini-batches, an
/// optimizer, l1/l2 penalties, validation, early stopping and divergence checks.
///
/// The loop runs on preallocated buffers (one `Engine`), so an epoch allocates
/// nothing per batch or sample. Everything random comes from `configuration.seed`,
/// so the same call gives bit-identical results. A run can hand out checkpoints
/// (`CheckpointHooks`) and be resumed from one (`resumingFrom:`) in another
/// process, ending with the same bits as if it had never stopped.
public struct Trainer: Sendable {
    public var configuration: TrainingConfiguration

    public init(_ configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// Trains a copy of `network` and returns it with its losses.
    ///
    /// - Parameters:
    ///   - checkpoint: a checkpoint of this run (same configuration, network shapes
    ///     and data sizes, or this throws) to go on from. The result is bit for bit
    ///     that of the run which never stopped; `network`'s parameters are replaced
    ///     by the checkpoint's.
    ///   - cancellation: checked before every batch; once raised, the run returns
    ///     the network of the last whole epoch with `stopped == .cancelled`.
    ///   - checkpoints: asked after every completed epoch whether to take a
    ///     checkpoint, and given it.
    ///   - progress: called after every epoch (after a checkpoint's epoch, when resuming).
    public func train(
        _ network: Network, on data: Dataset, validation: Dataset? = nil,
        resumingFrom checkpoint: TrainingCheckpoint? = nil,
        cancellation: CancellationFlag? = nil, checkpoints: CheckpointHooks? = nil,
        progress: (EpochProgress) -> Void = { _ in }
    ) throws(CoreError) -> TrainingResult {
        let config = configuration
        try check(network, data: data, validation: validation)
        try checkpoint?.check(against: network, data: data, validation: validation, configuration: config)
        let samples = data.inputs.rows
        let batch = min(config.batchSize ?? samples, samples)
        let parameters = Parameters(network)
        let engine = Engine(parameters: parameters, capacity: batch)
        engine.threads = max(1, config.threads)
        let optimizer = OptimizerState(
            config.optimizer, learningRate: config.learningRate, parameters: parameters)
        let batchInputs = Buffer(count: batch * network.inputs)
        let batchTargets = Buffer(count: batch * network.outputs)

        func meanLoss(_ set: Dataset) -> Double {
            engine.meanLoss(parameters, on: set, loss: config.loss)
        }
        var state: TrainingState
        if let checkpoint {
            state = TrainingState(
                resuming: checkpoint, configuration: config, parameters: parameters, optimizer: optimizer)
        } else {
            let initial = (loss: meanLoss(data), validation: validation.map(meanLoss))
            guard initial.loss.isFinite, initial.validation?.isFinite ?? true else {
                throw CoreError(.nonFinite, .naming("the loss of the initial network is not finite"), at: .network)
            }
            state = TrainingState(configuration: config, samples: samples, initial: initial, parameters: parameters)
        }
        let lastFinite = Parameters(zerosLike: parameters)
        lastFinite.copy(from: parameters)
        var stopped = state.stopsEarly(config) ? StopReason.earlyStopping : .completed

        training: while stopped == .completed, state.epochsRun < config.epochs {
            let epoch = state.epochsRun + 1
            if config.shuffle { state.order.shuffle(using: &state.generator) }
            for start in stride(from: 0, to: samples, by: batch) {
                if cancellation?.isCancelled == true {
                    stopped = .cancelled
                    break training
                }
                let size = min(batch, samples - start)
                data.inputs.gatherRows(state.order[start..<start + size], into: batchInputs.pointer)
                data.targets.gatherRows(state.order[start..<start + size], into: batchTargets.pointer)
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
            state.current = losses
            state.epochsRun = epoch
            lastFinite.copy(from: parameters)
            let isPoint = state.sampler.record(epoch: epoch, loss: losses.loss, validationLoss: losses.validation)
            progress(
                EpochProgress(
                    epoch: epoch, epochs: config.epochs, loss: losses.loss,
                    validationLoss: losses.validation, isHistoryPoint: isPoint))
            if let stopping = config.earlyStopping {
                state.judge(epoch: epoch, losses: losses, parameters: parameters, stopping: stopping)
                if state.stopsEarly(config) { stopped = .earlyStopping }
            }
            if let checkpoints, checkpoints.shouldCheckpoint(epoch) {
                checkpoints.save(
                    state.checkpoint(
                        configuration: config, parameters: parameters, optimizer: optimizer, samples: samples,
                        validationSamples: validation?.inputs.rows))
            }
        }
        state.sampler.finish(epoch: state.epochsRun, loss: state.current.loss, validationLoss: state.current.validation)
        var returned = (parameters: lastFinite, losses: state.current)
        if stopped == .earlyStopping, let bestParameters = state.best.parameters {
            returned = (bestParameters, state.best.losses)
        }
        return TrainingResult(
            network: returned.parameters.network, epochsRun: state.epochsRun, loss: returned.losses.loss,
            validationLoss: returned.losses.validation, history: state.sampler.history, stopped: stopped)
    }

    /// Throws, with the location of the fault, unless the run can start.
    private func check(_ network: Network, data: Dataset, validation: Dataset?) throws(CoreError) {
        try configuration.validate()
        try configuration.loss.check(outputActivation: network.outputActivation)
        for (role, set) in [(Location.DataSet.training, data), (.validation, validation)] {
            guard let set else { continue }
            let inputs = Location.data(role, .inputs)
            guard set.inputs.rows > 0 else {
                throw CoreError(.invalidValue, "there are no samples", at: inputs)
            }
            guard set.inputs.columns == network.inputs else {
                throw CoreError(
                    .shapeMismatch,
                    "each sample has \(set.inputs.columns) values, but the network takes \(network.inputs)",
                    at: inputs)
            }
            guard set.inputs.isFinite else {
                throw CoreError(.invalidValue, "an input is not finite", at: inputs)
            }
            do {
                try network.checkTarget(set.targets, samples: set.inputs.rows, loss: configuration.loss)
            } catch {
                throw role == .validation ? error.relocated { $0.inValidation() } : error
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
