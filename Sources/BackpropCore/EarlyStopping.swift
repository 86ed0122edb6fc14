/// When to stop before the last epoch: once the watched loss has not improved
/// by more than `minDelta` for `patience` epochs.
public struct EarlyStopping: Sendable, Equatable {
    public var patience: Int
    public var minDelta: Double
    /// Return the network of the best epoch rather than the last.
    public var restoreBest: Bool

    public init(patience: Int = 10, minDelta: Double = 0, restoreBest: Bool = true) {
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBest = restoreBest
    }
}
