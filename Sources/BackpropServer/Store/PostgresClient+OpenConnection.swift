import Logging
import PostgresNIO

/// The stores lease connections only through `withOpenConnection`.
///
/// postgres-nio 1.33.2's pool can lease a connection the server has just closed,
/// before the pool has seen the close; a statement written to it is never answered
/// (the failed write has no promise), so the caller would wait forever. Such a lease
/// is given back unused and another taken. `PostgresRowsTests` hung within a few
/// terminated backends without this.
extension PostgresClient {
    /// Runs `body` on a pooled connection that is open, trying up to five leases
    /// with a short pause (2 ms, doubling) while the pool catches up with a close.
    func withOpenConnection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var pause = Duration.milliseconds(2)
        for _ in 0..<5 {
            let outcome: LeaseOutcome<Result> = try await withConnection { connection in
                connection.isClosed ? .closed : .done(try await body(connection))
            }
            if case .done(let value) = outcome { return value }
            try await Task.sleep(for: pause)
            pause *= 2
        }
        throw PostgresConnection.Closed()
    }

    /// Runs `query` on an open pooled connection and returns all its rows.
    @discardableResult
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await withOpenConnection { connection in try await connection.rows(query, logger: logger) }
    }

    /// `body` in a transaction (`PostgresConnection.transaction`) on an open pooled connection.
    func withOpenTransaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withOpenConnection { connection in try await connection.transaction(logger: logger, body) }
    }
}

private enum LeaseOutcome<Value: Sendable>: Sendable {
    case closed
    case done(Value)
}
