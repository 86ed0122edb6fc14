/// A pair of losses: over the training set, and over the validation set if any.
typealias Losses = (loss: Double, validation: Double?)

/// What a training run carries from one epoch to the next, beside the parameters
/// and the optimizer's buffers: with those, what a checkpoint holds.
struct TrainingState {
    /// Epochs completed.
    var epochsRun = 0
    /// The sample order; each epoch shuffles the previous epoch's order.
    var order: [Int]
    var generator: SeededGenerator
    var sampler: HistorySampler
    /// The losses of the current parameters.
    var current: Losses
    /// Early stopping: the best epoch so far, its losses, and its parameters when
    /// they are to be restored.
    var best: (epoch: Int, losses: Losses, parameters: Parameters?)
    var epochsWithoutImprovement = 0

    /// The state before the first epoch, `initial` being the untrained losses.
    init(configuration: TrainingConfiguration, samples: Int, initial: Losses, parameters: Parameters) {
        order = Array(0..<samples)
        generator = SeededGenerator(seed: configuration.seed)
        sampler = HistorySampler(epochs: configuration.epochs, hasValidation: initial.validation != nil)
        current = initial
        best = (0, initial, nil)
        if let stopping = configuration.earlyStopping, stopping.restoreBest {
            best.parameters = Parameters(zerosLike: parameters)
            best.parameters!.copy(from: parameters)
        }
    }

    /// Early stopping's judgement of a finite epoch with `losses`: a new best if the
    /// watched loss (validation, else training) fell by more than `minDelta`.
    mutating func judge(
        epoch: Int, losses: Losses, parameters: Parameters, stopping: EarlyStopping
    ) {
        let watched = losses.validation ?? losses.loss
        if watched < (best.losses.validation ?? best.losses.loss) - stopping.minDelta {
            best.epoch = epoch
            best.losses = losses
            best.parameters?.copy(from: parameters)
            epochsWithoutImprovement = 0
        } else {
            epochsWithoutImprovement += 1
        }
    }

    /// True once early stopping has run out of patience.
    func stopsEarly(_ configuration: TrainingConfiguration) -> Bool {
        guard let stopping = configuration.earlyStopping else { return false }
        return epochsWithoutImprovement >= stopping.patience
    }
}
