import BackpropCore
import Foundation

/// Where training jobs live: the seam between the HTTP layer (routes, event streams)
/// and a store. Two stores implement it: `MemoryJobStore` (the default: one process,
/// nothing survives a restart) and `PostgresJobStore` (many replicas share the jobs;
/// a job outlives the replica that ran it).
///
/// Every failure is a `Problem`: a store that cannot reach its database answers 503
/// with `Retry-After`, never a 500.
protocol JobStore: Sendable {
    /// Stores a checked training as a queued job; with an idempotency key already
    /// used, returns that job (same body) or throws a 422 (another body).
    func submit(_ submission: JobSubmission) async throws(Problem) -> JobSnapshot
    /// The job, or nil if there is none (or it was forgotten).
    func job(_ id: String) async throws(Problem) -> JobSnapshot?
    /// Every kept job, oldest first.
    func list() async throws(Problem) -> [JobSnapshot]
    /// Cancels a job: a queued one at once, a running one within a batch. Nil if there is none.
    func cancel(_ id: String) async throws(Problem) -> JobSnapshot?
    /// The job's events after `lastEventID`, then each new one; ends after the
    /// terminal event, or with a `.retry` hint when this replica stops serving it.
    func events(_ id: String, after lastEventID: Int) -> AsyncStream<JobStreamItem>
    /// Stops taking and running jobs (see each store for what happens to running ones).
    func shutdown(grace: Duration) async
    /// True once `shutdown` has begun.
    var isShuttingDown: Bool { get }
    /// Whether this replica should receive traffic (GET /health/ready).
    var readiness: Readiness { get }
    /// The store's gauges, for /metrics to record.
    func gauges() async -> JobGauges
}

/// A checked training, ready to be stored.
struct JobSubmission: Sendable {
    var training: TrainWire
    /// The body as stored and run again after a crash: the request with its seed filled in.
    var canonicalBody: [UInt8]
    /// From the `Idempotency-Key` header, with the SHA-256 of the request body.
    var idempotency: (key: String, bodyHash: [UInt8])?
    /// The training's room in the memory budget (`TrainWire.memoryFootprint`), held
    /// while the submission or the job it becomes holds the training.
    var reservation: MemoryReservation? = nil
}

/// What a job's event stream yields.
enum JobStreamItem: Sendable, Equatable {
    case event(JobEvent)
    /// The stream ends here; the client should reconnect (`retry:` milliseconds),
    /// possibly to another replica, and resume with `Last-Event-ID`.
    case retry(milliseconds: Int)
}

/// GET /health/ready's answer.
struct Readiness: Sendable, Equatable {
    var ready: Bool
    /// Why not, when not ready.
    var reason: String?

    static let ready = Readiness(ready: true, reason: nil)
}

extension Problem {
    /// 404 for a job id that is not (or no longer) kept.
    static func noSuchJob(_ id: String) -> Problem {
        Problem(.notFound, title: "No such job", detail: "there is no job \(id); finished jobs are kept for a limited time")
    }

    /// 422: an `Idempotency-Key` reused with a different body.
    static func idempotencyKeyReused(_ key: String) -> Problem {
        Problem(
            .unprocessableContent, title: "Idempotency key reused",
            detail: "the Idempotency-Key \"\(key)\" was already used with a different request body; use a new key for a new request")
    }

    /// 410: a succeeded job whose result was dropped (the oldest go first) to keep
    /// finished jobs' results within the memory budget.
    static func resultDropped(_ job: JobSnapshot) -> Problem {
        Problem(
            .gone, title: "Result dropped",
            detail: """
                job \(job.id) succeeded, but its result is no longer kept: the oldest finished results \
                are dropped first to keep results within the memory budget (--memory-budget); fetch \
                results soon after jobs finish, or use the PostgreSQL job store, which keeps them in the database
                """)
    }

    /// 503 while the service shuts down.
    static var shuttingDown: Problem {
        Problem(.serviceUnavailable, title: "Shutting down", detail: "the service is shutting down and takes no new jobs", headers: [.retryAfter: "1"])
    }

    /// 429 when the job queue is full.
    static func jobQueueFull(_ queued: Int, limit: Int) -> Problem {
        Problem(
            .tooManyRequests, title: "Too many jobs",
            detail: "\(queued) jobs are already waiting (the limit is \(limit)); retry when one has started",
            headers: [.retryAfter: "5"])
    }
}
