import Logging
import PostgresNIO

/// The schema of the job and network stores, as numbered migrations applied in order at start.
///
/// Replicas that start together take a session advisory lock first, so exactly one
/// applies each migration; `schema_migrations` records what is applied. A migration
/// is never edited once released: a change is a new one.
enum PostgresMigrations {
    /// The advisory lock key for migrations (any constant; "bp" "mi" in ASCII).
    static let lockKey: Int64 = 0x6270_6D69
    static let all: [(version: Int, sql: [String])] = [
        (1, [
            """
            CREATE TABLE jobs (
                id text PRIMARY KEY,
                state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
                request text NOT NULL,
                epochs bigint NOT NULL,
                idempotency_key text UNIQUE,
                body_hash bytea,
                attempt integer NOT NULL DEFAULT 0,
                lease_owner text,
                lease_token bigint,
                lease_expires_at timestamptz,
                cancel_requested boolean NOT NULL DEFAULT false,
                checkpoint bytea,
                checkpoint_epoch bigint,
                progress_epoch bigint NOT NULL DEFAULT 0,
                loss double precision,
                validation_loss double precision,
                last_seq bigint NOT NULL DEFAULT 0,
                result text,
                error text,
                created_at timestamptz NOT NULL DEFAULT now(),
                started_at timestamptz,
                finished_at timestamptz
            )
            """,
            "CREATE INDEX jobs_queued ON jobs (created_at, id) WHERE state = 'queued'",
            "CREATE INDEX jobs_running_lease ON jobs (lease_expires_at) WHERE state = 'running'",
            "CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL",
            "CREATE INDEX jobs_created ON jobs (created_at, id)",
            "CREATE SEQUENCE lease_tokens",
            """
            CREATE TABLE job_events (
                job_id text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
                seq bigint NOT NULL,
                kind text NOT NULL,
                data text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (job_id, seq)
            )
            """,
            // Wake-ups only, and ids only: the tables are the truth.
            """
            CREATE FUNCTION backprop_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('backprop_events', NEW.job_id); RETURN NULL; END $$
            """,
            """
            CREATE TRIGGER job_events_notify AFTER INSERT ON job_events
            FOR EACH ROW EXECUTE FUNCTION backprop_notify_event()
            """,
            """
            CREATE FUNCTION backprop_notify_job() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.state = 'queued' AND (TG_OP = 'INSERT' OR OLD.state <> 'queued') THEN
                    PERFORM pg_notify('backprop_queue', NEW.id);
                END IF;
                IF TG_OP = 'UPDATE' AND NEW.cancel_requested AND NOT OLD.cancel_requested THEN
                    PERFORM pg_notify('backprop_cancel', NEW.id);
                END IF;
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE ON jobs
            FOR EACH ROW EXECUTE FUNCTION backprop_notify_job()
            """,
        ]),
        // Stored networks. `network_names` holds each name's last version number: a put
        // locks its row (FOR UPDATE), so concurrent puts on any replicas get distinct
        // versions and If-Match is checked against the latest under that lock.
        (2, [
            "CREATE TABLE network_names (name text PRIMARY KEY, last_version integer NOT NULL DEFAULT 0)",
            """
            CREATE TABLE networks (
                name text NOT NULL REFERENCES network_names (name) ON DELETE CASCADE,
                version integer NOT NULL,
                json bytea NOT NULL,
                etag text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (name, version)
            )
            """,
            // Names only, for the replicas' caches: the tables are the truth.
            """
            CREATE FUNCTION backprop_notify_network() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('backprop_networks', CASE WHEN TG_OP = 'DELETE' THEN OLD.name ELSE NEW.name END);
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER networks_notify AFTER INSERT OR DELETE ON networks
            FOR EACH ROW EXECUTE FUNCTION backprop_notify_network()
            """,
        ]),
    ]

    /// Applies every migration not yet applied, under the advisory lock.
    static func apply(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.rows("SELECT pg_advisory_lock(\(lockKey))", logger: logger)
        do {
            try await connection.rows(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
                logger: logger)
            let applied = Set(
                try await connection.rows("SELECT version FROM schema_migrations", logger: logger).map { try $0.decode(Int.self) })
            for migration in all where !applied.contains(migration.version) {
                try await connection.transaction(logger: logger) { connection in
                    for statement in migration.sql {
                        try await connection.rows(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.rows(
                        "INSERT INTO schema_migrations (version) VALUES (\(migration.version))", logger: logger)
                }
                logger.info("applied job store migration", metadata: ["version": "\(migration.version)"])
            }
        } catch {
            _ = try? await connection.rows("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
            throw error
        }
        try await connection.rows("SELECT pg_advisory_unlock(\(lockKey))", logger: logger)
    }
}
