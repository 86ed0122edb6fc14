import BackpropServer
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// A fresh PostgreSQL database for one test, made from `BACKPROP_TEST_DATABASE_URL`
/// (a role that may create databases) and dropped afterwards.
///
/// Without the variable the PostgreSQL suites are skipped, and say so; CI sets it,
/// and sets `BACKPROP_REQUIRE_DATABASE_TESTS=1`, under which a missing URL fails.
public enum TestDatabase {
    public static var adminURL: String? {
        ProcessInfo.processInfo.environment["BACKPROP_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static var isAvailable: Bool { adminURL != nil }

    public static var isRequired: Bool {
        ProcessInfo.processInfo.environment["BACKPROP_REQUIRE_DATABASE_TESTS"] == "1"
    }

    /// Runs `body` with the URL of a new, empty database.
    public static func with<T>(_ body: (DatabaseURL) async throws -> T) async throws -> T {
        guard let text = adminURL else { throw MissingDatabase() }
        let admin = try DatabaseURL(text)
        let name = "bp_test_\(UInt64.random(in: 0 ... .max) >> 16)"
        try await execute("CREATE DATABASE \(name)", on: admin)
        var url = admin
        url.database = name
        do {
            let value = try await body(url)
            try await execute("DROP DATABASE \(name) WITH (FORCE)", on: admin)
            return value
        } catch {
            try? await execute("DROP DATABASE \(name) WITH (FORCE)", on: admin)
            throw error
        }
    }

    /// Runs one statement (no binds) on the database at `url`.
    public static func execute(_ sql: String, on url: DatabaseURL) async throws {
        _ = try await rows(sql, on: url)
    }

    /// Runs one query and returns every row's columns as text (nil for NULL).
    public static func rows(_ sql: String, on url: DatabaseURL) async throws -> [[String?]] {
        let logger = Logger(label: "test-database")
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: url.host, port: url.port, username: url.username, password: url.password,
                database: url.database, tls: .disable),
            id: 1, logger: logger)
        do {
            // Collected on the event loop (as the stores read theirs, PostgresConnection+Rows).
            let rows: EventLoopFuture<PostgresQueryResult> = connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            let result = try await rows.get().rows.map { row in row.map { cell in cell.bytes.map { String(buffer: $0) } } }
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    public struct MissingDatabase: Error, CustomStringConvertible {
        public var description: String { "BACKPROP_TEST_DATABASE_URL is not set" }
    }
}
