/// Taking a checkpoint of a run, and going on from one.
extension TrainingState {
    /// The state `checkpoint` saved; loads its parameters and optimizer buffers into
    /// `parameters` and `optimizer`. The checkpoint must have passed `check(against:…)`
    /// for this run, so every count fits.
    init(
        resuming checkpoint: TrainingCheckpoint, configuration: TrainingConfiguration,
        parameters: Parameters, optimizer: OptimizerState
    ) {
        parameters.load(checkpoint.parameters)
        if !checkpoint.firstMoments.isEmpty { optimizer.first.load(checkpoint.firstMoments) }
        if let second = optimizer.second, let moments = checkpoint.secondMoments { second.load(moments) }
        optimizer.step = checkpoint.step
        epochsRun = checkpoint.epoch
        order = checkpoint.order
        generator = SeededGenerator(words: checkpoint.generator)
        sampler = HistorySampler(epochs: configuration.epochs, resuming: checkpoint.history)
        current = (checkpoint.loss, checkpoint.validationLoss)
        best = (checkpoint.bestEpoch, (checkpoint.bestLoss, checkpoint.bestValidationLoss), nil)
        if let values = checkpoint.bestParameters {
            best.parameters = Parameters(zerosLike: parameters)
            best.parameters!.load(values)
        }
        epochsWithoutImprovement = checkpoint.epochsWithoutImprovement
    }

    /// A checkpoint of this state at the end of epoch `epochsRun`, with the run's
    /// current `parameters` and `optimizer`. Copies every buffer.
    func checkpoint(
        configuration: TrainingConfiguration, parameters: Parameters, optimizer: OptimizerState,
        samples: Int, validationSamples: Int?
    ) -> TrainingCheckpoint {
        TrainingCheckpoint(
            epoch: epochsRun, configuration: configuration, shapes: parameters.shapes, samples: samples,
            validationSamples: validationSamples, parameters: parameters.flat,
            firstMoments: configuration.optimizer.usesFirstMoments ? optimizer.first.flat : [],
            secondMoments: optimizer.second?.flat, step: optimizer.step, generator: generator.words,
            order: order, loss: current.loss, validationLoss: current.validation, history: sampler.history,
            bestEpoch: best.epoch, bestLoss: best.losses.loss, bestValidationLoss: best.losses.validation,
            bestParameters: best.parameters?.flat, epochsWithoutImprovement: epochsWithoutImprovement)
    }
}
