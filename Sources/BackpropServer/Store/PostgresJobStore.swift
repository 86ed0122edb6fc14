import BackpropCore
import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// The job store for many replicas: jobs and their events in PostgreSQL, the truth
/// that every replica reads. A replica claims a queued job (`FOR UPDATE SKIP LOCKED`)
/// when it has a free job thread, holds it under a lease with a fencing token that
/// heartbeats extend, checkpoints it as it trains, and names its token in every
/// write, so a replica that lost its lease writes nothing more. Every replica sweeps
/// for expired leases and queues those jobs again; they resume from their last
/// checkpoint, bit for bit. LISTEN/NOTIFY only wakes things up.
///
/// The SQL is in `+Queries`; claiming and running in `+Worker`; heartbeats, the
/// sweep and retention in `+Maintenance`; event streams in `+Events`.
final class PostgresJobStore: JobStore {
    struct Settings: Sendable {
        var replicaID: String
        var leaseSeconds: Int
        var heartbeatSeconds: Int
        var maxAttempts: Int
        var checkpointSeconds: Int
        /// Jobs this replica runs at once.
        var slots: Int
        /// Queued jobs in the whole store beyond which a submit is a 429.
        var queueLimit: Int
        var kept: Int
        var retentionSeconds: Int
    }

    enum Phase: Equatable { case starting, serving, draining, stopped }

    struct State {
        var phase = Phase.starting
        var reachable = false
        var running: [String: LeasedJob] = [:]
        var streams: [Int: AsyncStream<JobStreamItem>.Continuation] = [:]
        var nextStream = 0
    }

    let client: PostgresClient
    let settings: Settings
    let limits: Limits
    /// The jobs' own threads, one per slot.
    let pool: ComputePool
    let logger: Logger
    let url: DatabaseURL
    let state = NIOLockedValueBox(State())
    let listener: PostgresListener
    /// Where jobs' `{"name": …}` networks are fetched from and `save_as` stores to.
    let networks: (any NetworkStore)?
    let metrics = StoreMetrics()
    /// Claimed jobs, from their claim to the end of their run.
    let inProgress = ActivityCount()
    /// One unit from the start until the first `shutdown` call completes, which later
    /// callers await.
    let untilStopped = ActivityCount()

    /// With `client`, shares it (with the network store); otherwise makes its own.
    init(
        url: DatabaseURL, client: PostgresClient? = nil, networks: (any NetworkStore)? = nil, settings: Settings,
        limits: Limits, logger: Logger
    ) {
        self.url = url
        self.settings = settings
        self.limits = limits
        self.logger = logger
        self.networks = networks
        self.client = client ?? PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: logger)
        pool = ComputePool(threads: settings.slots, queue: 0, metricsLabel: "jobs")
        untilStopped.enter()
        let running = state
        listener = PostgresListener { id in
            running.withLockedValue { $0.running[id] }?.stop(.cancelRequested)
        }
    }

    // MARK: JobStore

    func submit(_ submission: JobSubmission) async throws(Problem) -> JobSnapshot {
        guard phase == .serving else { throw phase == .starting ? Self.unavailable : .shuttingDown }
        let id = JobSnapshot.newID()
        let inserted = try await database {
            try await self.insert(id: id, submission)
        }
        if inserted, let job = try await job(id) { return job }
        if let idempotency = submission.idempotency {
            let known = try await database { try await self.idempotent(idempotency.key) }
            if let known {
                guard known.bodyHash == idempotency.bodyHash else { throw .idempotencyKeyReused(idempotency.key) }
                if let job = try await job(known.id) { return job }
            }
        }
        let queued = try await database { try await self.queuedCount() }
        throw .jobQueueFull(queued, limit: settings.queueLimit)
    }

    func job(_ id: String) async throws(Problem) -> JobSnapshot? {
        try checkStarted()
        return try await database { try await self.snapshots(id: id).first }
    }

    func list() async throws(Problem) -> [JobSnapshot] {
        try checkStarted()
        return try await database { try await self.snapshots(id: nil) }
    }

    func cancel(_ id: String) async throws(Problem) -> JobSnapshot? {
        try checkStarted()
        try await database { try await self.requestCancel(id) }
        return try await job(id)
    }

    var readiness: Readiness {
        state.withLockedValue { state in
            switch state.phase {
            case .starting: Readiness(ready: false, reason: "connecting to the job store")
            case .draining, .stopped: Readiness(ready: false, reason: "shutting down")
            case .serving where !state.reachable: Readiness(ready: false, reason: "the job store cannot be reached")
            case .serving: .ready
            }
        }
    }

    var phase: Phase { state.withLockedValue { $0.phase } }

    var isShuttingDown: Bool { phase == .draining || phase == .stopped }

    /// A 503 at once while the store has not yet connected and migrated.
    private func checkStarted() throws(Problem) {
        if phase == .starting { throw Self.unavailable }
    }

    func gauges() async -> JobGauges {
        let counts = (try? await database { try await self.countsByState() }) ?? [:]
        return JobGauges(
            counts: Dictionary(uniqueKeysWithValues: counts.compactMap { state, count in
                Job.Status(rawValue: state).map { ($0, count) }
            }),
            reachable: state.withLockedValue { $0.reachable })
    }

    // MARK: Errors

    /// 503 while the database cannot be reached (never a 500).
    static let unavailable = Problem(
        .serviceUnavailable, title: "Job store unavailable",
        detail: "the job store cannot be reached right now; jobs already accepted are kept, retry shortly",
        headers: [.retryAfter: "2"])

    /// 503 while the database answers but cannot take more: SQLSTATE class 53 (a full
    /// disk, out of memory). The title and `Retry-After` of `unavailable`; the detail
    /// says what it is, and the store is not marked unreachable (reads go on).
    static func refused(_ sqlState: String) -> Problem {
        Problem(
            .serviceUnavailable, title: "Job store unavailable",
            detail: "the job store's database cannot store more right now (SQLSTATE \(sqlState): insufficient resources, "
                + "such as a full disk); jobs already accepted are kept, retry later",
            headers: [.retryAfter: "2"])
    }

    /// The SQLSTATE of a PostgreSQL error of class 53 (insufficient resources), else nil.
    static func insufficientResources(_ error: any Error) -> String? {
        guard let state = (error as? PSQLError)?.serverInfo?[.sqlState], state.hasPrefix("53") else { return nil }
        return state
    }

    /// Runs a database operation with a time limit; any failure is a 503 problem
    /// (logged without secrets) and, unless the database answered that it cannot
    /// store (`refused`), marks the store unreachable until the next success.
    func database<T: Sendable>(
        timeout: Duration = .seconds(3), _ operation: @escaping @Sendable () async throws -> T
    ) async throws(Problem) -> T {
        // Known unreachable: a shorter wait, so the routes fail fast while the database is down.
        let limit = state.withLockedValue { $0.reachable } ? timeout : min(timeout, .seconds(1))
        do {
            let value = try await withTimeout(limit, operation)
            state.withLockedValue { $0.reachable = true }
            return value
        } catch let problem as Problem {
            throw problem
        } catch {
            if Task.isCancelled { throw Self.unavailable }
            metrics.databaseErrors.increment()
            logger.warning("job store query failed", metadata: ["error": "\(Self.describe(error))"])
            if let sqlState = Self.insufficientResources(error) { throw Self.refused(sqlState) }
            state.withLockedValue { $0.reachable = false }
            throw Self.unavailable
        }
    }

    /// An error as it may be logged: PostgreSQL's code and message, never a password.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState], let message = error.serverInfo?[.message] {
                return "\(state): \(message)"
            }
            return "\(error.code)"
        }
        if error is TimeoutError { return "timed out" }
        return "\(type(of: error))"
    }
}

struct TimeoutError: Error {}

/// `operation`, or a `TimeoutError` after `timeout` (the operation is then cancelled).
///
/// The caller gets its answer at the deadline even when the operation does not
/// heed cancellation (a query waiting on a connection to a database that is gone):
/// the operation runs as a task of its own, not as a child the caller must wait for.
func withTimeout<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let done = NIOLockedValueBox(false)
    let claim: @Sendable () -> Bool = { done.withLockedValue { was in defer { was = true }; return !was } }
    let work = NIOLockedValueBox<Task<Void, Never>?>(nil)
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let task = Task {
                do {
                    let value = try await operation()
                    if claim() { continuation.resume(returning: value) }
                } catch {
                    if claim() { continuation.resume(throwing: error) }
                }
            }
            work.withLockedValue { $0 = task }
            Task {
                try? await Task.sleep(for: timeout)
                if claim() {
                    task.cancel()
                    continuation.resume(throwing: TimeoutError())
                }
            }
        }
    } onCancel: {
        work.withLockedValue { $0 }?.cancel()
    }
}

/// The store's counters, on /metrics.
struct StoreMetrics: Sendable {
    let claims = Counter(label: "backprop_job_claims_total")
    let rescues = Counter(label: "backprop_job_rescues_total")
    let lostLeases = Counter(label: "backprop_job_leases_lost_total")
    let handovers = Counter(label: "backprop_job_handovers_total")
    let databaseErrors = Counter(label: "backprop_job_store_errors_total")
    let checkpointSeconds = Metrics.Timer(label: "backprop_job_checkpoint_seconds")
}
