import BackpropCore
import Foundation
import NIOCore
import PostgresNIO

/// The store's SQL, one statement per operation, each atomic on its own. Every
/// result is read whole on the event loop (`rows(_:logger:)`, in PostgresConnection+Rows.swift:
/// postgres-nio's async row sequence can trap when the server closes). Writes
/// made for a running job name its lease token, so they change nothing once the
/// lease is gone. Event numbers come from `jobs.last_seq`, incremented under the
/// job row's lock in the same statement as the insert: no gaps, in commit order.
extension PostgresJobStore {
    /// Inserts a queued job unless the queue is full or the idempotency key is taken.
    func insert(id: String, _ submission: JobSubmission) async throws -> Bool {
        let request = String(decoding: submission.canonicalBody, as: UTF8.self)
        let epochs = submission.training.configuration.epochs
        let key = submission.idempotency?.key
        let hash = submission.idempotency.map { ByteBuffer(bytes: $0.bodyHash) }
        let rows = try await client.rows(
            """
            INSERT INTO jobs (id, state, request, epochs, idempotency_key, body_hash)
            SELECT \(id), 'queued', \(request), \(epochs), \(key), \(hash)
            WHERE (SELECT count(*) FROM jobs WHERE state = 'queued') < \(settings.queueLimit)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
            """, logger: logger)
        return !rows.isEmpty
    }

    func idempotent(_ key: String) async throws -> (id: String, bodyHash: [UInt8])? {
        let rows = try await client.rows(
            "SELECT id, body_hash FROM jobs WHERE idempotency_key = \(key)", logger: logger)
        guard let row = rows.first else { return nil }
        let (id, hash) = try row.decode((String, ByteBuffer?).self)
        return (id, hash.map { Array($0.readableBytesView) } ?? [])
    }

    func queuedCount() async throws -> Int {
        let rows = try await client.rows("SELECT count(*) FROM jobs WHERE state = 'queued'", logger: logger)
        return try rows.first?.decode(Int.self) ?? 0
    }

    func countsByState() async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await client.rows("SELECT state, count(*) FROM jobs GROUP BY state", logger: logger) {
            let (state, count) = try row.decode((String, Int).self)
            counts[state] = count
        }
        return counts
    }

    /// One job (`id`), or every job oldest first (at most 10,000).
    func snapshots(id: String?) async throws -> [JobSnapshot] {
        let columns = """
            SELECT id, state, progress_epoch, epochs, loss, validation_loss, created_at, started_at, finished_at,
                   result, error FROM jobs
            """
        let query: PostgresQuery =
            if let id { "\(unescaped: columns) WHERE id = \(id)" } else { "\(unescaped: columns) ORDER BY created_at, id LIMIT 10000" }
        var jobs: [JobSnapshot] = []
        for cells in try await client.rows(query, logger: logger) {
            let row = try cells.decode(
                (String, String, Int, Int, Double?, Double?, Date, Date?, Date?, String?, String?).self)
            jobs.append(
                JobSnapshot(
                    id: row.0, status: Job.Status(rawValue: row.1) ?? .failed, epoch: row.2, epochs: row.3,
                    loss: row.4, validationLoss: row.5, createdAt: row.6, startedAt: row.7, finishedAt: row.8,
                    result: id == nil ? nil : row.9.flatMap(Self.parse),
                    error: id == nil ? nil : row.10.flatMap(Self.parse)))
        }
        return jobs
    }

    /// Cancels a queued job at once (with its `cancelled` event); marks a running one.
    func requestCancel(_ id: String) async throws {
        try await client.rows(
            """
            WITH target AS (SELECT id, state FROM jobs WHERE id = \(id) FOR UPDATE),
            changed AS (
                UPDATE jobs j SET cancel_requested = true,
                    state = CASE WHEN target.state = 'queued' THEN 'cancelled' ELSE j.state END,
                    finished_at = CASE WHEN target.state = 'queued' THEN now() ELSE j.finished_at END,
                    last_seq = CASE WHEN target.state = 'queued' THEN j.last_seq + 1 ELSE j.last_seq END
                FROM target WHERE j.id = target.id AND target.state IN ('queued', 'running')
                RETURNING j.id, target.state AS was, j.last_seq, j.progress_epoch)
            INSERT INTO job_events (job_id, seq, kind, data)
            SELECT id, last_seq, 'cancelled', '{"epoch":' || progress_epoch || ',"reason":"cancelled"}'
            FROM changed WHERE was = 'queued'
            """, logger: logger)
    }

    /// Events after `after`, oldest first, at most `limit`.
    func events(of id: String, after: Int, limit: Int) async throws -> [JobEvent] {
        var events: [JobEvent] = []
        let rows = try await client.rows(
            "SELECT seq, kind, data FROM job_events WHERE job_id = \(id) AND seq > \(after) ORDER BY seq LIMIT \(limit)",
            logger: logger)
        for row in rows {
            let (seq, kind, data) = try row.decode((Int, String, String).self)
            events.append(JobEvent(id: seq, kind: JobEvent.Kind(rawValue: kind) ?? .failed, data: Self.parse(data) ?? .null))
        }
        return events
    }

    func exists(_ id: String) async throws -> Bool {
        try await !client.rows("SELECT 1 FROM jobs WHERE id = \(id)", logger: logger).isEmpty
    }

    /// JSON text the service wrote itself, back to a value.
    static func parse(_ text: String) -> JSONValue? {
        try? JSONParser.parse(Array(text.utf8)[...])
    }
}
