/// Why training stopped.
public enum StopReason: String, Sendable {
    case completed
    case earlyStopping = "early_stopping"
    /// A loss or parameter became non-finite; the last finite network is returned.
    case diverged
    /// The cancellation flag was raised; the network of the last whole epoch is returned.
    case cancelled
}

/// The losses of sampled epochs: at most 1,000 points, always with the last epoch.
public struct History: Sendable, Equatable {
    public var epoch: [Int] = []
    public var loss: [Double] = []
    public var validationLoss: [Double]? = nil
}

/// The result of a training run.
public struct TrainingResult: Sendable, Equatable {
    public var network: Network
    /// The epochs completed (for a diverged run, the last one whose network was finite).
    public var epochsRun: Int
    /// The data loss (no penalty) of the returned network over the training set.
    public var loss: Double
    /// The loss of the returned network over the validation set, where one is given.
    public var validationLoss: Double?
    public var history: History
    public var stopped: StopReason
}
