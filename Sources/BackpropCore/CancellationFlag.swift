import Synchronization

/// A stop flag shared between whoever asks a computation to stop and the
/// computation, which checks it once per batch.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Asks the computation to stop; it does so before its next batch.
    public func cancel() { flag.store(true, ordering: .relaxed) }

    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}
