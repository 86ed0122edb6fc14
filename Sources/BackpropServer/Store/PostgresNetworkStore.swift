import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
import PostgresNIO

/// Stored networks in PostgreSQL (`networks`, `network_names`; migration 2), shared
/// by every replica, on the job store's `PostgresClient`.
///
/// The tables are the truth: every read asks the database which version is the
/// latest (or whether a version still exists), an index lookup that returns no
/// JSON. What the database returns is parsed once per replica and kept in a
/// `NetworkCache` by name, version and ETag, which never go stale; the
/// `backprop_networks` notifications (the name only) let a replica free the versions
/// another replica deleted, and a missed one costs memory for a while, never a
/// wrong answer. Versions come from `network_names.last_version`, incremented under
/// the name's row lock in the same transaction that checks `If-Match` and inserts
/// the version, so concurrent puts on any replicas get distinct versions and of two
/// writers with the same ETag exactly one wins. A database that cannot be reached
/// is a 503 with Retry-After, never a 500.
final class PostgresNetworkStore: NetworkStore {
    let client: PostgresClient
    let logger: Logger
    let cache: NetworkCache
    private let reachable = NIOLockedValueBox(true)
    private let parseCount = NIOLockedValueBox(0)
    private let parseCounter = Counter(label: "backprop_network_parses_total")
    private let errorCounter = Counter(label: "backprop_network_store_errors_total")

    init(client: PostgresClient, cacheLimit: Int, budget: MemoryBudget, logger: Logger) {
        self.client = client
        self.logger = logger
        cache = NetworkCache(limit: cacheLimit, budget: budget)
    }

    /// How many times this replica has parsed stored JSON (the cache spares the rest).
    var parses: Int { parseCount.withLockedValue { $0 } }

    // MARK: NetworkStore

    func put(_ name: String, _ content: NetworkContent, precondition: WritePrecondition) async throws(Problem) -> StoredNetwork {
        let stored = try await database(timeout: Self.writeTimeout) { try await self.insert(name, content, precondition: precondition) }.get()
        cache.insert(stored)
        return stored
    }

    func get(_ name: String, version: Int?) async throws(Problem) -> StoredNetwork? {
        guard let head = try await database({ try await self.head(name, version: version) }) else {
            if let version { cache.remove(name, version: version) }
            return nil
        }
        return try await resolve(name, head)
    }

    func list() async throws(Problem) -> [StoredNetwork] {
        let heads = try await database { try await self.latestHeads() }
        var networks: [StoredNetwork] = []
        for (name, head) in heads {
            // A version deleted between the two queries is left out.
            if let stored = try await resolve(name, head) { networks.append(stored) }
        }
        return networks
    }

    func versions(_ name: String) async throws(Problem) -> [Int] {
        try await database { try await self.versionNumbers(name) }
    }

    func delete(_ name: String, precondition: WritePrecondition) async throws(Problem) -> Bool {
        let deleted = try await database(timeout: Self.writeTimeout) { try await self.deleteName(name, precondition: precondition) }.get()
        if deleted { cache.keep(name, only: nil) }
        return deleted
    }

    func delete(_ name: String, version: Int) async throws(Problem) -> Bool {
        let deleted = try await database(timeout: Self.writeTimeout) { try await self.deleteVersion(name, version) }
        cache.remove(name, version: version)
        return deleted
    }

    // MARK: The cache

    /// A notification (or a reconnection, `nil`): frees the cached versions of `name`
    /// (of every cached name) that the database no longer has. Names with nothing
    /// cached here cost no query.
    func networkChanged(_ name: String?) async {
        let cached = cache.names
        for name in name.map({ [$0] }) ?? Array(cached) where cached.contains(name) {
            guard let versions = try? await database({ try await self.versionNumbers(name) }) else { return }
            cache.keep(name, only: Set(versions))
        }
    }

    /// The version `head` names, from the cache or read and parsed (then cached); nil
    /// if it was deleted meanwhile.
    private func resolve(_ name: String, _ head: Head) async throws(Problem) -> StoredNetwork? {
        let key = NetworkCache.Key(name: name, version: head.version, etag: head.etag)
        if let cached = cache.get(key) { return cached }
        cache.remove(name, version: head.version)  // an older entry of a name deleted and stored again
        guard let json = try await database({ try await self.json(name, version: head.version) }) else { return nil }
        parseCount.withLockedValue { $0 += 1 }
        parseCounter.increment()
        let content = try NetworkContent(json: json)
        let stored = StoredNetwork(name: name, version: head.version, createdAt: head.createdAt, content: content)
        cache.insert(stored)
        return stored
    }

    // MARK: Errors

    /// A write's time limit: it may wait for other writers of the same name (their
    /// transactions lock its row one after another), which is not the database being
    /// unreachable; reads keep `database`'s 3 s.
    static let writeTimeout: Duration = .seconds(10)

    /// 503 while the database cannot be reached.
    static let unavailable = Problem(
        .serviceUnavailable, title: "Network store unavailable",
        detail: "the network store cannot be reached right now; retry shortly", headers: [.retryAfter: "2"])

    /// Runs a database operation with a time limit; a failure is a 503 problem (logged
    /// without secrets; its detail names a SQLSTATE of class 53, a full disk, when the
    /// database answered so). A `Problem` the operation throws is passed on as it is.
    func database<T: Sendable>(
        timeout: Duration = .seconds(3), _ operation: @escaping @Sendable () async throws -> T
    ) async throws(Problem) -> T {
        let limit = reachable.withLockedValue { $0 } ? timeout : min(timeout, .seconds(1))
        do {
            let value = try await withTimeout(limit, operation)
            reachable.withLockedValue { $0 = true }
            return value
        } catch let problem as Problem {
            throw problem
        } catch {
            if Task.isCancelled { throw Self.unavailable }
            errorCounter.increment()
            logger.warning("network store query failed", metadata: ["error": "\(PostgresJobStore.describe(error))"])
            if let sqlState = PostgresJobStore.insufficientResources(error) {
                // It answered: not unreachable, but it cannot store (a full disk).
                throw Problem(
                    .serviceUnavailable, title: "Network store unavailable",
                    detail: "the network store's database cannot store more right now (SQLSTATE \(sqlState): "
                        + "insufficient resources, such as a full disk); retry later",
                    headers: [.retryAfter: "2"])
            }
            reachable.withLockedValue { $0 = false }
            throw Self.unavailable
        }
    }
}
