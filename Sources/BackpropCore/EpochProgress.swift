/// The state after one epoch, as given to the progress callback.
public struct EpochProgress: Sendable, Equatable {
    public var epoch: Int
    public var epochs: Int
    public var loss: Double
    public var validationLoss: Double?
    /// True when this epoch is one of the history's points.
    public var isHistoryPoint: Bool

    public init(epoch: Int, epochs: Int, loss: Double, validationLoss: Double?, isHistoryPoint: Bool) {
        self.epoch = epoch
        self.epochs = epochs
        self.loss = loss
        self.validationLoss = validationLoss
        self.isHistoryPoint = isHistoryPoint
    }
}
