import Logging
import NIOCore
import PostgresNIO

/// Every statement the stores run goes through `rows(_:logger:)`, never through
/// postgres-nio's async row sequence.
///
/// postgres-nio 1.33.2 traps (`RowStreamStateMachine.channelReadComplete`: "How can
/// we receive a body part, after a channelReadComplete, but no read has been forwarded
/// yet") when the server closes a connection while a result is still arriving and the
/// sequence's reader has not yet asked for more: a PostgreSQL restart or a terminated
/// backend, under load. The trap took down a replica in the cluster suite. Its
/// `EventLoopFuture` query instead collects the rows on the event loop and asks for the
/// next ones as each batch lands, so the stream never waits for a reader, and the close
/// reaches the caller as a thrown `PSQLError` (or `Closed`, below, when the connection
/// closed before the statement was written). `PostgresRowsTests` shows both.
///
/// The cost is that a result is held whole before the first row is decoded; every
/// caller collected its rows into an array anyway, and results are bounded (`LIMIT`).
///
/// Transactions go through `transaction(logger:_:)` rather than postgres-nio's
/// `withTransaction`, which sends `ROLLBACK` on a connection the server has already
/// closed, where (in 1.33.2) the statement is never answered and the caller hangs.
extension PostgresConnection {
    /// Thrown instead of writing a statement to a connection that is already closed.
    struct Closed: Error {}

    /// Runs `query` and returns all its rows (none for a statement without a result).
    ///
    /// A statement written to a connection that has closed is never answered in
    /// 1.33.2 (the write fails with no promise to tell). So it is not sent on a
    /// connection already closed, and a check queued on the event loop behind the
    /// write fails the wait with `Closed` if the connection closed before the write
    /// ran: a statement the connection took is failed by it on close, and comes first.
    @discardableResult
    func rows(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        guard !isClosed else { throw Closed() }
        let sent: EventLoopFuture<PostgresQueryResult> = self.query(query, logger: logger)
        let answer = sent.eventLoop.makePromise(of: PostgresQueryResult.self)
        sent.cascade(to: answer)
        sent.eventLoop.execute { if self.isClosed { answer.fail(Closed()) } }
        return try await answer.futureResult.get().rows
    }

    /// `body` between `BEGIN` and `COMMIT`. When `body` throws, the transaction is
    /// rolled back if the connection is still open (a closed one has ended it already),
    /// and `body`'s error is thrown as it was.
    func transaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await rows("BEGIN", logger: logger)
        let value: Result
        do {
            value = try await body(self)
        } catch {
            _ = try? await rows("ROLLBACK", logger: logger)
            throw error
        }
        try await rows("COMMIT", logger: logger)
        return value
    }
}
