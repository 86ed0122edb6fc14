import Foundation
import NIOCore
import PostgresNIO

/// The network store's SQL. Every result is read to its end (see
/// `PostgresJobStore+Queries`).
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
            let stored = try await client.withTransaction(logger: logger) { connection in
                var version = 0
                let next = try await connection.query(
                    """
                    INSERT INTO network_names (name, last_version) VALUES (\(name), 1)
                    ON CONFLICT (name) DO UPDATE SET last_version = network_names.last_version + 1
                    RETURNING last_version
                    """, logger: logger)
                for try await number in next.decode(Int.self) { version = number }
                var latest: String? = nil
                let rows = try await connection.query(
                    "SELECT etag FROM networks WHERE name = \(name) ORDER BY version DESC LIMIT 1", logger: logger)
                for try await etag in rows.decode(String.self) { latest = etag }
                do throws(Problem) {
                    try precondition.check(name, latestETag: latest)
                } catch {
                    throw Refused(problem: error)
                }
                let stored = StoredNetwork(name: name, version: version, createdAt: Date(), content: content)
                try await connection.query(
                    """
                    INSERT INTO networks (name, version, json, etag, created_at)
                    VALUES (\(name), \(version), \(json), \(stored.etag), \(stored.createdAt))
                    """, logger: logger)
                return stored
            }
            return .success(stored)
        } catch let error as PostgresTransactionError {
            if let refused = error.closureError as? Refused { return .failure(refused.problem) }
            throw error
        }
    }

    /// The version (the latest when nil) without its JSON, or nil.
    func head(_ name: String, version: Int?) async throws -> Head? {
        let rows: PostgresRowSequence
        if let version {
            rows = try await client.query(
                "SELECT version, etag, created_at FROM networks WHERE name = \(name) AND version = \(version)",
                logger: logger)
        } else {
            rows = try await client.query(
                "SELECT version, etag, created_at FROM networks WHERE name = \(name) ORDER BY version DESC LIMIT 1",
                logger: logger)
        }
        var head: Head? = nil
        for try await (version, etag, createdAt) in rows.decode((Int, String, Date).self) {
            head = Head(version: version, etag: etag, createdAt: createdAt)
        }
        return head
    }

    /// The latest version of every name, by name.
    func latestHeads() async throws -> [(String, Head)] {
        let rows = try await client.query(
            "SELECT DISTINCT ON (name) name, version, etag, created_at FROM networks ORDER BY name, version DESC",
            logger: logger)
        var heads: [(String, Head)] = []
        for try await (name, version, etag, createdAt) in rows.decode((String, Int, String, Date).self) {
            heads.append((name, Head(version: version, etag: etag, createdAt: createdAt)))
        }
        return heads
    }

    /// A version's stored JSON, or nil.
    func json(_ name: String, version: Int) async throws -> [UInt8]? {
        let rows = try await client.query(
            "SELECT json FROM networks WHERE name = \(name) AND version = \(version)", logger: logger)
        var json: [UInt8]? = nil
        for try await buffer in rows.decode(ByteBuffer.self) { json = Array(buffer.readableBytesView) }
        return json
    }

    func versionNumbers(_ name: String) async throws -> [Int] {
        let rows = try await client.query("SELECT version FROM networks WHERE name = \(name) ORDER BY version", logger: logger)
        var versions: [Int] = []
        for try await version in rows.decode(Int.self) { versions.append(version) }
        return versions
    }

    /// Deletes every version and the name (so its versions count from 1 again), the
    /// precondition checked against the latest under the name's row lock.
    func deleteName(_ name: String, precondition: WritePrecondition) async throws -> Result<Bool, Problem> {
        let logger = self.logger
        do {
            let deleted = try await client.withTransaction(logger: logger) { connection -> Bool in
                var locked = false
                let lock = try await connection.query(
                    "SELECT 1 FROM network_names WHERE name = \(name) FOR UPDATE", logger: logger)
                for try await _ in lock.decode(Int.self) { locked = true }
                var latest: String? = nil
                if locked {
                    let rows = try await connection.query(
                        "SELECT etag FROM networks WHERE name = \(name) ORDER BY version DESC LIMIT 1", logger: logger)
                    for try await etag in rows.decode(String.self) { latest = etag }
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
                try await connection.query("DELETE FROM networks WHERE name = \(name)", logger: logger)
                try await connection.query("DELETE FROM network_names WHERE name = \(name)", logger: logger)
                return true
            }
            return .success(deleted)
        } catch let error as PostgresTransactionError {
            if let refused = error.closureError as? Refused { return .failure(refused.problem) }
            throw error
        }
    }

    /// Deletes one version; its number is not used again (the name's row keeps it).
    func deleteVersion(_ name: String, _ version: Int) async throws -> Bool {
        let rows = try await client.query(
            "DELETE FROM networks WHERE name = \(name) AND version = \(version) RETURNING version", logger: logger)
        var deleted = false
        for try await _ in rows.decode(Int.self) { deleted = true }
        return deleted
    }
}
