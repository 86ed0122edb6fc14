/// How to train: the gradient-descent loop's settings.
public struct TrainingConfiguration: Sendable, Equatable {
    /// The most epochs that may be asked for (keeps counters and histories in range).
    public static let maximumEpochs = 1_000_000_000

    public var epochs: Int
    public var learningRate: Double
    /// Samples per update; nil or above the sample count means full batch, 1 is online.
    public var batchSize: Int?
    /// Reorder the samples every epoch with a generator seeded by `seed`.
    public var shuffle: Bool
    public var seed: UInt64
    public var loss: Loss
    public var optimizer: Optimizer
    /// Penalty l1·Σ|W| on weights (never biases).
    public var l1: Double
    /// Penalty (l2/2)·ΣW² on weights (never biases).
    public var l2: Double
    public var earlyStopping: EarlyStopping?
    /// Threads for a batch's large matrix products. Each element is summed whole by
    /// one thread, so the results are bit-identical for any count. The service uses 1:
    /// its compute pool already runs requests side by side.
    public var threads: Int = 1

    public init(
        epochs: Int = 100, learningRate: Double = 0.1, batchSize: Int? = nil, shuffle: Bool = true,
        seed: UInt64 = 0, loss: Loss = .squaredError, optimizer: Optimizer = .sgd(), l1: Double = 0,
        l2: Double = 0, earlyStopping: EarlyStopping? = nil
    ) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.loss = loss
        self.optimizer = optimizer
        self.l1 = l1
        self.l2 = l2
        self.earlyStopping = earlyStopping
    }

    /// Throws, with the location of the setting, unless every setting is in range.
    public func validate() throws(CoreError) {
        guard epochs >= 0, epochs <= Self.maximumEpochs else {
            throw CoreError(
                .invalidValue, "\(Location.setting(.epochs)) must be between 0 and \(Self.maximumEpochs)",
                at: .setting(.epochs))
        }
        guard learningRate.isFinite, learningRate >= 0 else {
            throw CoreError(
                .invalidValue, "\(Location.setting(.learningRate)) must be a finite number ≥ 0", at: .setting(.learningRate))
        }
        if let batchSize, batchSize < 1 {
            throw CoreError(.invalidValue, "\(Location.setting(.batchSize)) must be at least 1", at: .setting(.batchSize))
        }
        for (setting, value) in [(Location.Setting.l1, l1), (.l2, l2)] where !(value.isFinite && value >= 0) {
            throw CoreError(.invalidValue, "\(Location.setting(setting)) must be a finite number ≥ 0", at: .setting(setting))
        }
        try optimizer.validate()
        if let earlyStopping {
            guard earlyStopping.patience >= 1 else {
                throw CoreError(
                    .invalidValue, "\(Location.setting(.patience)) must be at least 1", at: .setting(.patience))
            }
            guard earlyStopping.minDelta.isFinite, earlyStopping.minDelta >= 0 else {
                throw CoreError(
                    .invalidValue, "\(Location.setting(.minDelta)) must be a finite number ≥ 0", at: .setting(.minDelta))
            }
        }
    }
}
