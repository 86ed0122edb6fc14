import BackpropCore
import Foundation
import NIOConcurrencyHelpers

/// A job this replica runs under a lease: its stop flag, why it stopped, and its
/// writes (progress events and checkpoints), made in order by one task so that the
/// training thread never waits for the database. A write that finds the lease gone
/// stops the job, and nothing more is written.
final class LeasedJob: Sendable {
    enum StopReason: Sendable, Equatable {
        /// DELETE from any replica.
        case cancelRequested
        /// The lease expired or was taken: another replica may be running the job.
        case leaseLost
        /// This replica is shutting down: checkpoint and hand the job back.
        case handover
    }

    enum Write: Sendable {
        case progress(EpochProgress)
        case checkpoint(TrainingCheckpoint)
    }

    private struct State {
        var reason: StopReason?
        var handoverRequested = false
        var lastProgressWrite: ContinuousClock.Instant?
        var lastCheckpoint = ContinuousClock.now
        var epoch = 0
        var renewedAt = ContinuousClock.now
    }

    let claimed: ClaimedJob
    let flag = CancellationFlag()
    /// Progress is written at history points, at most this often.
    static let progressInterval = Duration.milliseconds(250)
    /// Writes that may wait for the database, per job (about 8 s of progress).
    static let pendingWrites = 32
    private let state = NIOLockedValueBox(State())
    private let writes: AsyncStream<Write>.Continuation
    private let writer: Task<Void, Never>

    init(_ claimed: ClaimedJob, store: PostgresJobStore) {
        self.claimed = claimed
        // While the database cannot store (its writes retried), the newest writes wait
        // and older ones are dropped: a later checkpoint replaces an earlier one, and
        // the event log loses only history points, never its order or its end.
        let (stream, continuation) = AsyncStream.makeStream(of: Write.self, bufferingPolicy: .bufferingNewest(Self.pendingWrites))
        writes = continuation
        let box = NIOLockedValueBox<LeasedJob?>(nil)
        writer = Task {
            for await write in stream {
                guard let job = box.withLockedValue({ $0 }), job.stopReason != .leaseLost else { continue }
                await store.perform(write, for: job)
            }
        }
        box.withLockedValue { $0 = self }
        state.withLockedValue { $0.epoch = claimed.progressEpoch }
    }

    var stopReason: StopReason? { state.withLockedValue { $0.reason } }
    var epoch: Int { state.withLockedValue { $0.epoch } }
    var renewedAt: ContinuousClock.Instant { state.withLockedValue { $0.renewedAt } }

    func renewed() { state.withLockedValue { $0.renewedAt = .now } }

    /// Stops the training within a batch. A lost lease overrides any other reason.
    func stop(_ reason: StopReason) {
        state.withLockedValue { state in
            if state.reason == nil || reason == .leaseLost { state.reason = reason }
        }
        flag.cancel()
    }

    /// Asks for a checkpoint at the end of the current epoch, after which the job stops.
    func requestHandover() {
        state.withLockedValue { $0.handoverRequested = true }
    }

    /// Called by the trainer after every epoch (on the training thread).
    func progress(_ progress: EpochProgress) {
        let write = state.withLockedValue { state -> Bool in
            guard progress.epoch > state.epoch else { return false }  // already in the table (a resumed run)
            state.epoch = progress.epoch
            let now = ContinuousClock.now
            guard progress.isHistoryPoint,
                state.lastProgressWrite.map({ now - $0 >= Self.progressInterval }) ?? true
            else { return false }
            state.lastProgressWrite = now
            return true
        }
        if write { writes.yield(.progress(progress)) }
    }

    /// The trainer's checkpoint hooks: every `interval`, and at once when a handover is asked for.
    func hooks(interval: Duration) -> CheckpointHooks {
        CheckpointHooks(
            shouldCheckpoint: { [self] _ in
                state.withLockedValue { state in
                    state.handoverRequested || ContinuousClock.now - state.lastCheckpoint >= interval
                }
            },
            save: { [self] checkpoint in
                let handover = state.withLockedValue { state in
                    state.lastCheckpoint = .now
                    return state.handoverRequested
                }
                writes.yield(.checkpoint(checkpoint))
                if handover { stop(.handover) }
            })
    }

    /// Waits until every write asked for so far is made (or given up).
    func drain() async {
        writes.finish()
        await writer.value
    }
}
