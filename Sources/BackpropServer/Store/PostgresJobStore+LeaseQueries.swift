import BackpropCore
import Foundation
import NIOCore
import PostgresNIO

/// A claimed job, as the claim returns it.
struct ClaimedJob: Sendable {
    var id: String
    var request: String
    var checkpoint: [UInt8]?
    var token: Int
    var attempt: Int
    /// The last epoch whose progress is already in the table (not sent again on resume).
    var progressEpoch: Int
}

/// The SQL of a lease: claim, heartbeat, the fenced writes, and the sweep.
extension PostgresJobStore {
    /// Claims the oldest queued job for this replica, with a new fencing token.
    func claim() async throws -> ClaimedJob? {
        let rows = try await client.rows(
            """
            UPDATE jobs SET state = 'running', attempt = attempt + 1, lease_owner = \(settings.replicaID),
                lease_token = nextval('lease_tokens'),
                lease_expires_at = now() + make_interval(secs => \(Double(settings.leaseSeconds))),
                started_at = coalesce(started_at, now())
            WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND NOT cancel_requested
                        ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING id, request, checkpoint, lease_token, attempt, progress_epoch
            """, logger: logger)
        guard let cells = rows.first else { return nil }
        let row = try cells.decode((String, String, ByteBuffer?, Int, Int, Int).self)
        return ClaimedJob(
            id: row.0, request: row.1, checkpoint: row.2.map { Array($0.readableBytesView) }, token: row.3,
            attempt: row.4, progressEpoch: row.5)
    }

    /// Extends the leases of `tokens`; returns each still-held token and whether its cancel was requested.
    func heartbeat(_ tokens: [Int]) async throws -> [Int: Bool] {
        var held: [Int: Bool] = [:]
        let rows = try await client.rows(
            """
            UPDATE jobs SET lease_expires_at = now() + make_interval(secs => \(Double(settings.leaseSeconds)))
            WHERE lease_token = ANY(\(tokens)) AND state = 'running'
            RETURNING lease_token, cancel_requested
            """, logger: logger)
        for row in rows {
            let (token, cancel) = try row.decode((Int, Bool).self)
            held[token] = cancel
        }
        return held
    }

    /// Appends a progress event and the job's progress columns; false if the lease is gone.
    func writeProgress(_ job: ClaimedJob, _ progress: EpochProgress, data: String) async throws -> Bool {
        try await returnsRow(
            """
            WITH j AS (
                UPDATE jobs SET last_seq = last_seq + 1, progress_epoch = \(progress.epoch), loss = \(progress.loss),
                    validation_loss = \(progress.validationLoss)
                WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
                RETURNING id, last_seq)
            INSERT INTO job_events (job_id, seq, kind, data) SELECT id, last_seq, 'progress', \(data) FROM j
            RETURNING seq
            """)
    }

    /// Stores a checkpoint; false if the lease is gone.
    func writeCheckpoint(_ job: ClaimedJob, _ bytes: [UInt8], epoch: Int) async throws -> Bool {
        try await returnsRow(
            """
            UPDATE jobs SET checkpoint = \(ByteBuffer(bytes: bytes)), checkpoint_epoch = \(epoch)
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running' RETURNING id
            """)
    }

    /// Ends the job with its terminal event (`done`, `failed` or `cancelled`); false if the lease is gone.
    func finish(
        _ job: ClaimedJob, state: Job.Status, event: JobEvent.Kind, data: String, result: String?, error: String?,
        epoch: Int?, loss: Double?, validationLoss: Double?
    ) async throws -> Bool {
        try await returnsRow(
            """
            WITH j AS (
                UPDATE jobs SET state = \(state.rawValue), last_seq = last_seq + 1, finished_at = now(),
                    result = \(result), error = \(error), checkpoint = NULL, lease_owner = NULL, lease_token = NULL,
                    lease_expires_at = NULL, progress_epoch = coalesce(\(epoch), progress_epoch),
                    loss = coalesce(\(loss), loss), validation_loss = coalesce(\(validationLoss), validation_loss)
                WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running'
                RETURNING id, last_seq)
            INSERT INTO job_events (job_id, seq, kind, data) SELECT id, last_seq, \(event.rawValue), \(data) FROM j
            RETURNING seq
            """)
    }

    /// Hands a job back to the queue (a graceful shutdown: not counted as an attempt); false if the lease is gone.
    func handBack(_ job: ClaimedJob) async throws -> Bool {
        try await returnsRow(
            """
            UPDATE jobs SET state = 'queued', attempt = greatest(attempt - 1, 0), lease_owner = NULL,
                lease_token = NULL, lease_expires_at = NULL
            WHERE id = \(job.id) AND lease_token = \(job.token) AND state = 'running' AND NOT cancel_requested
            RETURNING id
            """)
    }

    /// Queues again every running job whose lease expired (cancel not requested, attempts left);
    /// ends the others: cancelled if their cancel was requested, else failed with `abandoned`.
    func sweepExpiredLeases(abandoned: String) async throws -> (requeued: Int, ended: Int) {
        let requeued = try await client.rows(
            """
            UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
            WHERE state = 'running' AND lease_expires_at < now() AND NOT cancel_requested
              AND attempt < \(settings.maxAttempts)
            RETURNING id
            """, logger: logger
        ).count
        let ended = try await client.rows(
            """
            WITH ended AS (
                UPDATE jobs SET state = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END,
                    error = CASE WHEN cancel_requested THEN NULL ELSE \(abandoned) END,
                    finished_at = now(), last_seq = last_seq + 1, checkpoint = NULL, lease_owner = NULL,
                    lease_token = NULL, lease_expires_at = NULL
                WHERE state = 'running' AND lease_expires_at < now()
                  AND (cancel_requested OR attempt >= \(settings.maxAttempts))
                RETURNING id, state, last_seq, progress_epoch, error)
            INSERT INTO job_events (job_id, seq, kind, data)
            SELECT id, last_seq, state,
                   CASE WHEN state = 'failed' THEN error
                        ELSE '{"epoch":' || progress_epoch || ',"reason":"cancelled"}' END
            FROM ended RETURNING job_id
            """, logger: logger
        ).count
        return (requeued, ended)
    }

    /// Deletes finished jobs past the retention time or beyond the kept count, in
    /// batches, by one replica at a time (a transaction-scoped advisory lock).
    func enforceRetention() async throws -> Int {
        try await client.withOpenTransaction(logger: logger) { connection in
            let lock = try await connection.rows(
                "SELECT pg_try_advisory_xact_lock(\(PostgresMigrations.lockKey + 1))", logger: logger)
            guard try lock.first?.decode(Bool.self) == true else { return 0 }
            var deleted = 0
            for _ in 0..<20 {
                let batch = try await connection.rows(
                    """
                    DELETE FROM jobs WHERE id IN (
                        SELECT id FROM jobs WHERE finished_at IS NOT NULL
                          AND (finished_at < now() - make_interval(secs => \(Double(settings.retentionSeconds)))
                               OR id IN (SELECT id FROM jobs WHERE finished_at IS NOT NULL
                                         ORDER BY finished_at DESC, id OFFSET \(settings.kept)))
                        LIMIT 500)
                    RETURNING id
                    """, logger: logger
                ).count
                deleted += batch
                if batch < 500 { break }
            }
            return deleted
        }
    }

    private func returnsRow(_ query: PostgresQuery) async throws -> Bool {
        try await !client.rows(query, logger: logger).isEmpty
    }
}
