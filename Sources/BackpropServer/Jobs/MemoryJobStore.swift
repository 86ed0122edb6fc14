import BackpropCore
import Foundation
import NIOConcurrencyHelpers
import Metrics
import ServiceLifecycle

/// The default job store: every training job in this process's memory, created,
/// run, listed, cancelled and forgotten here, under one lock. Nothing survives a
/// restart, and other replicas know nothing of these jobs (`PostgresJobStore` is
/// the store for that).
///
/// Bounds: at most `running` jobs train at once, on a pool of their own of that
/// size (so long jobs never hold the threads that answer /forward and /gradient),
/// at most `queued` wait in that pool's queue (admitted here, counted there: no
/// second queue), and finished jobs are kept for `retention` and at most
/// `kept` of them, and their results take at most `resultBytes` (the oldest are
/// dropped first: their GET then answers 410). Results are charged to the memory budget.
/// Past a bound, `submit` throws a 429 problem. On shutdown it takes no more jobs,
/// lets running ones finish for a grace period, then cancels them.
final class MemoryJobStore: JobStore {
    struct Bounds: Sendable {
        var running: Int
        var queued: Int
        var kept: Int
        var retention: Duration
        /// The most memory finished jobs' results may hold together.
        var resultBytes: Int
    }

    private struct State {
        var jobs: [String: Job] = [:]
        var order: [String] = []
        var shuttingDown = false
        /// Idempotency keys of kept jobs: the body's hash and the job's id.
        var keys: [String: (bodyHash: [UInt8], id: String)] = [:]
    }

    let bounds: Bounds
    /// Where kept results are counted.
    let budget: MemoryBudget
    /// Where `save_as` stores a trained network.
    let networks: any NetworkStore
    /// The jobs' own threads, one per running job, and their queue.
    let pool: ComputePool
    private let state = NIOLockedValueBox(State())
    /// Jobs from their submission to the end of their run.
    private let inProgress = ActivityCount()

    init(bounds: Bounds, budget: MemoryBudget, networks: any NetworkStore) {
        self.bounds = bounds
        self.budget = budget
        self.networks = networks
        pool = ComputePool(threads: bounds.running, queue: bounds.queued, metricsLabel: "jobs")
    }

    /// Registers a job and starts it in the background; returns it as queued (for the 202).
    func submit(_ submission: JobSubmission) throws(Problem) -> JobSnapshot {
        let training = submission.training
        let job = Job(id: JobSnapshot.newID(), epochs: training.configuration.epochs)
        let outcome = state.withLockedValue { state -> Result<Job, Problem> in
            purge(&state)
            if let idempotency = submission.idempotency, let known = state.keys[idempotency.key] {
                guard known.bodyHash == idempotency.bodyHash else { return .failure(.idempotencyKeyReused(idempotency.key)) }
                if let existing = state.jobs[known.id] { return .success(existing) }
            }
            if state.shuttingDown { return .failure(.shuttingDown) }
            let queued = state.jobs.values.filter { $0.status == .queued }.count
            guard queued < bounds.queued else { return .failure(.jobQueueFull(queued, limit: bounds.queued)) }
            state.jobs[job.id] = job
            state.order.append(job.id)
            inProgress.enter()  // under the lock, so a shutdown that follows waits for it
            if let idempotency = submission.idempotency {
                state.keys[idempotency.key] = (idempotency.bodyHash, job.id)
            }
            return .success(job)
        }
        let accepted = try outcome.get()
        guard accepted === job else { return accepted.snapshot }
        let queued = job.snapshot
        Task {
            await run(job, training, reservation: submission.reservation)
            inProgress.leave()
        }
        return queued
    }

    func job(_ id: String) -> JobSnapshot? { kept(id)?.snapshot }

    func list() -> [JobSnapshot] { all().map(\.snapshot) }

    func cancel(_ id: String) -> JobSnapshot? {
        guard let job = kept(id) else { return nil }
        cancel(job)
        return job.snapshot
    }

    func events(_ id: String, after lastEventID: Int) -> AsyncStream<JobStreamItem> {
        guard let job = kept(id) else { return AsyncStream { $0.finish() } }
        return job.events(after: lastEventID)
    }

    /// Memory jobs cannot move to another replica: ready unless shutting down.
    var readiness: Readiness {
        isShuttingDown ? Readiness(ready: false, reason: "shutting down") : .ready
    }

    func gauges() async -> JobGauges {
        JobGauges(counts: Dictionary(grouping: all(), by: \.status).mapValues(\.count))
    }

    private func kept(_ id: String) -> Job? {
        state.withLockedValue { state in
            purge(&state)
            return state.jobs[id]
        }
    }

    /// All kept jobs, oldest first.
    func all() -> [Job] {
        state.withLockedValue { state in
            purge(&state)
            return state.order.compactMap { state.jobs[$0] }
        }
    }

    /// Cancels a job: a queued one at once (it leaves the pool's queue), a running
    /// one within a batch.
    func cancel(_ job: Job, reason: String = "cancelled") {
        job.cancellation.cancel()
        if job.status == .queued {
            job.finish(.cancelled, reason: reason)
        }
        pool.withdraw(job.cancellation)
    }

    /// Stops taking jobs; lets running ones finish for `grace`, then cancels the rest.
    /// Every caller returns once no job is left unfinished.
    func shutdown(grace: Duration) async {
        let first = state.withLockedValue { state in
            defer { state.shuttingDown = true }
            return !state.shuttingDown
        }
        if first {
            for job in all() where job.status == .queued { cancel(job, reason: "shutdown") }
            if await !inProgress.waitUntilIdle(deadline: .now + grace) {
                for job in all() where !job.status.isFinished { cancel(job, reason: "shutdown") }
            }
        }
        await inProgress.waitUntilIdle()
    }

    /// Sets the `backprop_jobs{status=…}` gauges (done when /metrics is read).
    var isShuttingDown: Bool { state.withLockedValue { $0.shuttingDown } }

    // MARK: Running

    private func run(_ job: Job, _ training: TrainWire, reservation: MemoryReservation?) async {
        defer { reservation?.release() }
        do {
                // Started when a thread takes it from the queue; nil if it was cancelled first.
                // The result's JSON (a million numbers for a large network) is built there
                // too, never on the threads that run the server's tasks.
                let outcome = try await pool.run(cancellation: job.cancellation) { flag -> (TrainingResult, JSONValue?)? in
                    guard job.start() else { return nil }
                    let start = ContinuousClock.now
                    let result = try training.run(cancellation: flag) { job.record($0) }
                    let elapsed = ContinuousClock.now - start
                    guard result.stopped != .cancelled else { return (result, nil) }
                    return (result, training.json(result, durationMilliseconds: elapsed.milliseconds))
                }
                guard let (result, built) = outcome else { return }
                if let built {
                    let json = try await Self.saving(built, training, result, to: networks)
                    if job.finish(.succeeded, result: json) {
                        reservation?.release()  // the training's room, for its result
                        keepResult(of: job)
                    }
                } else {
                    job.finish(.cancelled, reason: isShuttingDown ? "shutdown" : "cancelled")
                }
            } catch let problem as Problem {
                job.finish(.failed, problem: problem)
            } catch {
                job.finish(.cancelled, reason: isShuttingDown ? "shutdown" : "cancelled")
            }
    }

    /// A succeeded training's result, with `saved_as` once its network is stored
    /// when the job asked for that (`save_as`); a store that refuses fails the job.
    static func saving(
        _ json: JSONValue, _ training: TrainWire, _ result: TrainingResult, to networks: any NetworkStore
    ) async throws(Problem) -> JSONValue {
        guard let name = training.saveAs else { return json }
        return try await Computed(json, save: (name, training.wire.content(result.network)))
            .saving(to: networks, precondition: .none)
    }

    /// Counts a new result in the budget, within `resultBytes` and the room the budget
    /// has: older results are dropped first to make room, and if there is still none,
    /// this one is (its GET answers 410 at once). Results never take the budget past its total.
    private func keepResult(of job: Job) {
        state.withLockedValue { state in
            purge(&state)
            let bytes = job.resultBytes
            guard bytes > 0 else { return }
            var older = state.order.compactMap { state.jobs[$0] }.filter { $0 !== job && $0.resultBytes > 0 }
            while budget.exchangeIfFits(0, kind: .results, fromReserve: 0, for: bytes, of: .results) == nil {
                guard !older.isEmpty else {
                    _ = job.dropResult()
                    return
                }
                budget.discharge(older.removeFirst().dropResult(), kind: .results)
            }
            purge(&state)  // within `resultBytes`, now with this one counted
        }
    }

    /// Forgets finished jobs older than `retention`, and the oldest beyond `kept`
    /// (and their idempotency keys); drops the oldest results beyond `resultBytes`.
    private func purge(_ state: inout State) {
        let now = Date()
        let retention = Double(bounds.retention.components.seconds)
        var finished = 0
        var resultBytes = 0
        for id in state.order.reversed() {
            guard let job = state.jobs[id], let finishedAt = job.finishedAt else { continue }
            finished += 1
            if finished > bounds.kept || now.timeIntervalSince(finishedAt) > retention {
                state.jobs[id] = nil
                budget.discharge(job.dropResult(), kind: .results)
                continue
            }
            resultBytes += job.resultBytes
            if resultBytes > bounds.resultBytes {
                let freed = job.dropResult()
                resultBytes -= freed
                budget.discharge(freed, kind: .results)
            }
        }
        state.order.removeAll { state.jobs[$0] == nil }
        if state.keys.count > state.jobs.count {
            state.keys = state.keys.filter { state.jobs[$0.value.id] != nil }
        }
    }
}

/// Shuts the registry down after the server has drained (see `JobStore.shutdown`).
struct JobService: Service {
    let registry: any JobStore
    let grace: Duration

    func run() async throws {
        try? await gracefulShutdown()
        await registry.shutdown(grace: grace)
    }
}

extension Duration {
    var milliseconds: Double {
        Double(components.seconds) * 1e3 + Double(components.attoseconds) * 1e-15
    }
}
