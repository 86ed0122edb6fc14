/// The limits a request is checked against while it is read.
public struct Limits: Sendable {
    public var maximumParameters: Int
    public var synchronousTrainingBudget: Int

    public init(maximumParameters: Int = 10_000_000, synchronousTrainingBudget: Int = 20_000_000_000) {
        self.maximumParameters = maximumParameters
        self.synchronousTrainingBudget = synchronousTrainingBudget
    }
}
