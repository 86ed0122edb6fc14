@testable import BackpropServer
import BackpropTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// A PostgreSQL backend that ends while its result is still arriving (a restart, a
/// `pg_terminate_backend`) must reach the caller as a thrown error, and the pool must
/// go on working. With postgres-nio 1.33.2 used directly this test failed two ways:
/// - its async row sequence trapped the process
///   (`RowStreamStateMachine.channelReadComplete`, 3 runs of 3) when the reader was behind;
/// - the pool then leased a connection the server had closed, and the next statement
///   on it was never answered (4 runs of 6 hung), also inside `withTransaction`'s
///   `ROLLBACK`.
/// The stores' `rows`, `withOpenConnection` and `transaction` avoid both; this test
/// passed 60 runs of 60 with them.
@Suite(
    .enabled(
        if: TestDatabase.isAvailable || TestDatabase.isRequired,
        "BACKPROP_TEST_DATABASE_URL is not set: the PostgreSQL row-reading suite is skipped"))
struct PostgresRowsTests {
    static let logger = Logger(label: "rows-test")
    static let rowCount = 4000

    /// A result of 4,000 rows of 2 KB: many TCP reads.
    static func bigResult(_ marker: Int) -> PostgresQuery {
        "SELECT \(marker)::int8 AS marker, n, repeat('x', 2048) FROM generate_series(1, \(rowCount)) AS n"
    }

    @Test func aBackendTerminatedMidResultIsAThrownErrorNotATrap() async throws {
        try await TestDatabase.with { url in
            let client = PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: Self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                var thrown = 0
                var whole = 0
                for round in 0..<12 {
                    let reader = Task {
                        try await PostgresRowsTests.read(Self.bigResult(round), client: client, inTransaction: round % 2 == 1)
                    }
                    try await Task.sleep(for: .milliseconds(5 + 3 * round))
                    try await TestDatabase.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%generate_series%' AND pid <> pg_backend_pid()",
                        on: url)
                    do {
                        // A hang (a lease of a connection already closed) fails here instead.
                        let count = try await withTimeout(.seconds(30)) { try await reader.value }
                        #expect(count == Self.rowCount, "a result that was not cut off is whole")
                        whole += 1
                    } catch is TimeoutError {
                        Issue.record("round \(round): the read never ended")
                    } catch {
                        // postgres-nio's error when the close fails the statement; the stores'
                        // `Closed` when the connection closed before the statement was written
                        // (in a transaction, after `BEGIN`, where no other lease can take over).
                        #expect(
                            error is PSQLError || error is PostgresConnection.Closed,
                            "the cut is postgres-nio's error or the stores' Closed: \(error)")
                        thrown += 1
                    }
                }
                #expect(thrown + whole == 12)
                #expect(thrown >= 1, "at least one backend was terminated mid-result")
                // The client still works afterwards, with a new connection.
                let after = try await PostgresRowsTests.read(Self.bigResult(99), client: client)
                #expect(after == Self.rowCount)
                group.cancelAll()
            }
        }
    }

    /// Reads the result through `rows(_:logger:)`; returns the last row's number
    /// (every row checked). With postgres-nio's async sequence here instead, read one
    /// row per `Task.yield()`, this test trapped the process in 3 runs of 3.
    static func read(_ query: PostgresQuery, client: PostgresClient, inTransaction: Bool = false) async throws -> Int {
        let rows =
            if inTransaction {
                try await client.withOpenTransaction(logger: logger) { try await $0.rows(query, logger: logger) }
            } else {
                try await client.rows(query, logger: logger)
            }
        var count = 0
        for row in rows {
            let (marker, n, text) = try row.decode((Int, Int, String).self)
            #expect(text.utf8.count == 2048 && n == count + 1 && marker >= 0)
            count = n
        }
        return count
    }
}
