/// Samples and their targets, one row each.
public struct Dataset: Sendable, Equatable {
    public var inputs: Matrix
    public var targets: Matrix

    public init(inputs: Matrix, targets: Matrix) {
        self.inputs = inputs
        self.targets = targets
    }
}
