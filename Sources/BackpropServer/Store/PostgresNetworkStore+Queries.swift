import Foundation
import NIOCore
import PostgresNIO

/// The network store's SQL. Every result is read whole on the event loop
/// (`rows(_:logger:)`, in PostgresConnection+Rows.swift).
extension PostgresNetworkStore {
    /// A version without its JSON.
    struct Head: Sendable {
        var version: Int
        var etag: String
        var createdAt: Date
    }

    /// Thrown inside a transaction to roll it back with a problem for the client.
    private struct Refused: Error {
        var problem: Problem
    }

    /// Stores the next version: the name's row is created or its `last_version`
    /// incremented (which locks it until the commit), the precondition is checked
    /// against the latest version under that lock, and the version is inserted; a
    /// refused precondition rolls everything back.
    func insert(_ name: String, _ content: NetworkContent, precondition: WritePrecondition) async throws -> Result<StoredNetwork, Problem> {
        let logger = self.logger
        let json = ByteBuffer(bytes: content.json)
        do {
            let stored = try await client.withOpenTransaction(logger: logger) { connection in
                let next = try await connection.rows(
                    """
                    INSERT INTO network_names (name, last_version) VALUES (\(name), 1)
                    ON CONFLICT (name) DO UPDATE SET last_version = network_names.last_version + 1
                    RETURNING last_version
                    """, logger: logger)
                let version = try next.first?.decode(Int.self) ?? 0
                let latest = try await connection.rows(
                    "SELECT etag FROM networks WHERE name = \(name) ORDER BY version DESC LIMIT 1", logger: logger
                ).first?.decode(String.self)
                do throws(Problem) {
                    try precondition.check(name, latestETag: latest)
                } catch {
                    throw Refused(problem: error)
                }
                let stored = StoredNetwork(name: name, version: version, createdAt: Date(), content: content)
                try await connection.rows(
                    """
                    INSERT INTO networks (name, version, json, etag, created_at)
                    VALUES (\(name), \(version), \(json), \(stored.etag), \(stored.createdAt))
                    """, logger: logger)
                return stored
            }
            return .success(stored)
        } catch let refused as Refused {
            return .failure(refused.problem)
        }
    }

    /// The version (the latest when nil) without its JSON, or nil.
    func head(_ name: String, version: Int?) async throws -> Head? {
        let rows: [PostgresRow]
        if let version {
            rows = try await client.rows(
                "SELECT version, etag, created_at FROM networks WHERE name = \(name) AND version = \(version)",
                logger: logger)
        } else {
            rows = try await client.rows(
                "SELECT version, etag, created_at FROM networks WHERE name = \(name) ORDER BY version DESC LIMIT 1",
                logger: logger)
        }
        guard let row = rows.first else { return nil }
        let (version, etag, createdAt) = try row.decode((Int, String, Date).self)
        return Head(version: version, etag: etag, createdAt: createdAt)
    }

    /// The latest version of every name, by name.
    func latestHeads() async throws -> [(String, Head)] {
        let rows = try await client.rows(
            "SELECT DISTINCT ON (name) name, version, etag, created_at FROM networks ORDER BY name, version DESC",
            logger: logger)
        return try rows.map { row in
            let (name, version, etag, createdAt) = try row.decode((String, Int, String, Date).self)
            return (name, Head(version: version, etag: etag, createdAt: createdAt))
        }
    }

    /// A version's stored JSON, or nil.
    func json(_ name: String, version: Int) async throws -> [UInt8]? {
        let rows = try await client.rows(
            "SELECT json FROM networks WHERE name = \(name) AND version = \(version)", logger: logger)
        return try rows.first.map { Array(try $0.decode(ByteBuffer.self).readableBytesView) }
    }

    func versionNumbers(_ name: String) async throws -> [Int] {
        try await client.rows("SELECT version FROM networks WHERE name = \(name) ORDER BY version", logger: logger)
            .map { try $0.decode(Int.self) }
    }

    /// Deletes every version and the name (so its versions count from 1 again), the
    /// precondition checked against the latest under the name's row lock.
    func deleteName(_ name: String, precondition: WritePrecondition) async throws -> Result<Bool, Problem> {
        let logger = self.logger
        do {
            let deleted = try await client.withOpenTransaction(logger: logger) { connection -> Bool in
                let locked = try await !connection.rows(
                    "SELECT 1 FROM network_names WHERE name = \(name) FOR UPDATE", logger: logger
                ).isEmpty
                var latest: String? = nil
                if locked {
                    latest = try await connection.rows(
                        "SELECT etag FROM networks WHERE name = \(name) ORDER BY version DESC LIMIT 1", logger: logger
                    ).first?.decode(String.self)
                }
                guard latest != nil else {
                    if precondition.ifMatch != nil { throw Refused(problem: Problem.staleNetwork(name, latest: nil)) }
                    return false
                }
                do throws(Problem) {
                    try precondition.check(name, latestETag: latest)
                } catch {
                    throw Refused(problem: error)
                }
                try await connection.rows("DELETE FROM networks WHERE name = \(name)", logger: logger)
                try await connection.rows("DELETE FROM network_names WHERE name = \(name)", logger: logger)
                return true
            }
            return .success(deleted)
        } catch let refused as Refused {
            return .failure(refused.problem)
        }
    }

    /// Deletes one version; its number is not used again (the name's row keeps it).
    func deleteVersion(_ name: String, _ version: Int) async throws -> Bool {
        try await !client.rows(
            "DELETE FROM networks WHERE name = \(name) AND version = \(version) RETURNING version", logger: logger
        ).isEmpty
    }
}
