import BackpropCore
import NIOConcurrencyHelpers

/// Dynamic batching, as Triton's dynamic batcher: concurrent inference calls for the
/// same stored network version are gathered into one matrix product.
///
/// A call joins the batch its version is gathering, or opens one (and a call that
/// would take the batch past `maxRows` submits it and opens the next). A batch is
/// submitted to the compute pool when it is full, or `maxWait` after it opened
/// (at once when that is zero), and takes its members only when a pool thread
/// starts it: calls arriving while it waits in the pool's queue still join it.
///
/// Each call is admitted by the pool on its own (`ComputePool.admit`: a 429 when
/// full) and holds its place until its batch ends. A call cancelled before its batch
/// starts leaves it and gives its place back; one cancelled later gets
/// `CancellationError` at once, and the batch goes on for the others.
final class InferenceBatcher: Sendable {
    let pool: ComputePool
    /// The most samples in one batch.
    let maxRows: Int
    /// The longest a batch waits for more calls before it is submitted.
    let maxWait: Duration

    /// A waiting call: what resumes it, and which batch holds its samples.
    private struct Caller {
        let continuation: UnsafeContinuation<Result<Matrix, any Error>, Never>
        let batch: Int
    }

    /// The batches not yet started and the calls not yet answered, under one lock.
    private struct State {
        var nextID = 0
        /// The batch each network version is gathering (it may already be submitted).
        var gathering: [InferenceBatch.Key: Int] = [:]
        /// Batches not yet started, by id: gathering, or full and submitted.
        var batches: [Int: InferenceBatch] = [:]
        var callers: [Int: Caller] = [:]
        /// Batches started, and the calls they answered (for tests and logs).
        var started = (batches: 0, calls: 0)

        mutating func newID() -> Int {
            nextID += 1
            return nextID
        }
    }

    /// What `join` leaves to do once the lock is released: answer a call already
    /// cancelled, or submit these batches to the pool and start the wait of a batch
    /// just opened.
    private struct Step {
        var refuse = false
        var submit: [InferenceBatch] = []
        var wait: Int? = nil
    }

    private let state = NIOLockedValueBox(State())

    init(pool: ComputePool, maxRows: Int, maxWaitMicroseconds: Int) {
        self.pool = pool
        self.maxRows = max(1, maxRows)
        maxWait = .microseconds(max(0, maxWaitMicroseconds))
    }

    /// Batches started so far, and the calls they answered.
    var started: (batches: Int, calls: Int) { state.withLockedValue { $0.started } }

    /// Calls in a batch and not yet answered.
    var pending: Int { state.withLockedValue { $0.callers.count } }

    /// The last layer's output for `input` (`rows` below `maxRows`, checked by the
    /// caller to be the network's width and finite), computed in a batch.
    func forward(_ stored: StoredNetwork, _ input: Matrix) async throws -> Matrix {
        try pool.admit()
        let id = state.withLockedValue { $0.newID() }
        let result = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<Matrix, any Error>, Never>) in
                let step = state.withLockedValue { state in
                    join(&state, id: id, continuation: continuation, stored: stored, input: input)
                }
                if step.refuse {
                    pool.release()
                    continuation.resume(returning: .failure(CancellationError()))
                }
                step.submit.forEach(submit)
                if let batch = step.wait { startWait(batch) }
            }
        } onCancel: {
            leave(id)
        }
        return try result.get()
    }

    /// Puts the call in its version's gathering batch (under the lock; checking for
    /// cancellation there, so that `leave` either comes after or is not needed).
    private func join(
        _ state: inout State, id: Int, continuation: UnsafeContinuation<Result<Matrix, any Error>, Never>,
        stored: StoredNetwork, input: Matrix
    ) -> Step {
        guard !Task.isCancelled else { return Step(refuse: true) }
        let key = InferenceBatch.Key(stored)
        var submitted: [InferenceBatch] = []
        var opened = false
        var batch: InferenceBatch
        if let open = state.gathering[key], let existing = state.batches[open], existing.rows + input.rows <= maxRows {
            batch = existing
        } else {
            if let full = state.gathering.removeValue(forKey: key), var previous = state.batches[full],
                !previous.submitted
            {
                previous.submitted = true
                state.batches[full] = previous
                submitted.append(previous)
            }
            batch = InferenceBatch(id: state.newID(), stored: stored)
            state.gathering[key] = batch.id
            opened = true
        }
        batch.append(InferenceBatch.Member(caller: id, input: input))
        state.callers[id] = Caller(continuation: continuation, batch: batch.id)
        if batch.rows >= maxRows { state.gathering[key] = nil }
        if !batch.submitted, batch.rows >= maxRows || maxWait == .zero {
            batch.submitted = true
            submitted.append(batch)
        }
        state.batches[batch.id] = batch
        return Step(submit: submitted, wait: opened && !batch.submitted ? batch.id : nil)
    }

    /// Submits the batch `maxWait` from now, unless it is submitted by then.
    private func startWait(_ id: Int) {
        Task { [self] in
            try? await Task.sleep(for: maxWait)
            let batch = state.withLockedValue { state -> InferenceBatch? in
                guard var batch = state.batches[id], !batch.submitted else { return nil }
                batch.submitted = true
                state.batches[id] = batch
                return batch
            }
            if let batch { submit(batch) }
        }
    }

    /// Queues the batch's job; when a pool thread starts it, it takes the batch's
    /// members as they are then, computes, gives their places back and answers them.
    private func submit(_ batch: InferenceBatch) {
        let id = batch.id
        pool.submitAdmitted(cancellation: batch.cancellation) { [self] run in
            let taken = state.withLockedValue { state -> InferenceBatch? in
                guard let batch = state.batches.removeValue(forKey: id) else { return nil }
                if state.gathering[batch.key] == id { state.gathering[batch.key] = nil }
                if run { state.started = (state.started.batches + 1, state.started.calls + batch.members.count) }
                return batch
            }
            guard let taken else { return (0, {}) }
            let results: [Result<Matrix, any Error>] =
                run ? taken.outputs() : Array(repeating: .failure(CancellationError()), count: taken.members.count)
            let continuations = state.withLockedValue { state in
                taken.members.map { state.callers.removeValue(forKey: $0.caller)?.continuation }
            }
            return (taken.members.count, {
                for (continuation, result) in zip(continuations, results) { continuation?.resume(returning: result) }
            })
        }
    }

    /// A cancelled call: answered at once with `CancellationError`. Before its batch
    /// starts it also leaves the batch and gives its place back (withdrawing the
    /// batch from the pool if it was the last member); after, its place is given
    /// back when the batch ends.
    private func leave(_ id: Int) {
        let (caller, released, withdrawn) = state.withLockedValue { state -> (Caller?, Bool, CancellationFlag?) in
            guard let caller = state.callers.removeValue(forKey: id) else { return (nil, false, nil) }
            guard var batch = state.batches[caller.batch], batch.remove(caller: id) else { return (caller, false, nil) }
            guard batch.members.isEmpty else {
                state.batches[batch.id] = batch
                return (caller, true, nil)
            }
            state.batches[batch.id] = nil
            if state.gathering[batch.key] == batch.id { state.gathering[batch.key] = nil }
            return (caller, true, batch.submitted ? batch.cancellation : nil)
        }
        if released { pool.release() }
        if let withdrawn {
            withdrawn.cancel()
            pool.withdraw(withdrawn)
        }
        caller?.continuation.resume(returning: .failure(CancellationError()))
    }
}
