/// The limits a request is checked against while it is read.
public struct Limits: Sendable {
    public var maximumParameters: Int
    public var synchronousTrainingBudget: Int

    public init(maximumParameters: Int, synchronousTrainingBudget: Int) {
        self.maximumParameters = maximumParameters
        self.synchronousTrainingBudget = synchronousTrainingBudget
    }

    /// The limits `configuration` sets; without one, `Configuration`'s defaults.
    public init(_ configuration: Configuration = Configuration()) {
        self.init(
            maximumParameters: configuration.maximumParameters,
            synchronousTrainingBudget: configuration.synchronousTrainingBudget)
    }
}
