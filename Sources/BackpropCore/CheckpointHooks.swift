/// When to take checkpoints and where to send them.
///
/// A checkpoint copies the run's state, so it costs a copy of the parameters and
/// the optimizer's buffers; the trainer makes one only when `shouldCheckpoint`
/// says so.
public struct CheckpointHooks: Sendable {
    /// Asked at the end of every completed epoch (after `progress` was called for
    /// it, and after early stopping has judged it); true takes a checkpoint.
    public var shouldCheckpoint: @Sendable (_ epoch: Int) -> Bool
    /// Receives each checkpoint, on the training thread. Training goes on once it
    /// returns; to stop, raise the run's `CancellationFlag` here: the run then stops
    /// before its next batch with `.cancelled`.
    public var save: @Sendable (TrainingCheckpoint) -> Void

    public init(
        shouldCheckpoint: @escaping @Sendable (Int) -> Bool, save: @escaping @Sendable (TrainingCheckpoint) -> Void
    ) {
        self.shouldCheckpoint = shouldCheckpoint
        self.save = save
    }
}
