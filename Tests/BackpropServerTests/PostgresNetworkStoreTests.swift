import BackpropTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import BackpropServer

/// `PostgresNetworkStore` against a real server (`BACKPROP_TEST_DATABASE_URL`): two
/// stores, each with its own client and listener, stand for two replicas on one
/// database (a new one per test). Skipped, and saying so, without the variable;
/// failed under `BACKPROP_REQUIRE_DATABASE_TESTS=1`.
@Suite(
    .enabled(
        if: TestDatabase.isAvailable || TestDatabase.isRequired,
        "BACKPROP_TEST_DATABASE_URL is not set: the PostgreSQL network store suite is skipped"),
    .serialized)
struct PostgresNetworkStoreTests {
    static let logger = Logger(label: "test")

    /// A small network's content; `weight` tells versions apart.
    static func content(_ weight: Double = 0.5) throws -> NetworkContent {
        try NetworkContent(
            json: Array("{\"layers\":[{\"weights\":[[\(weight),-0.6],[0.1,-0.2]]},{\"weights\":[0.1,-0.3]}]}".utf8))
    }

    /// `count` replicas' network stores on a new, migrated database; with `listening`
    /// false, none of them listens for notifications (as if every one were missed).
    static func withStores(
        _ count: Int = 2, listening: Bool = true, _ body: @escaping @Sendable ([PostgresNetworkStore], DatabaseURL) async throws -> Void
    ) async throws {
        try await TestDatabase.with { url in
            let connection = try await PostgresConnection.connect(
                configuration: try url.connectionConfiguration(), id: 1, logger: logger)
            try await PostgresMigrations.apply(on: connection, logger: logger)
            try await connection.close()
            let clients = (0..<count).map { _ in PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: logger) }
            let stores = clients.map {
                PostgresNetworkStore(
                    client: $0, cacheLimit: 16 << 20, budget: MemoryBudget(total: 1 << 30), logger: logger)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (client, store) in zip(clients, stores) {
                    let listener = PostgresListener { _ in }
                    listener.onNetworkChange { name in Task { await store.networkChanged(name) } }
                    group.addTask { await client.run() }
                    if listening { group.addTask { await listener.run(client: client, logger: logger) } }
                }
                try await body(stores, url)
                group.cancelAll()
            }
        }
    }

    /// The problem `operation` throws, nil if it throws none (or another error).
    static func status(_ operation: () async throws -> Void) async -> Problem? {
        do {
            try await operation()
            return nil
        } catch {
            return error as? Problem
        }
    }

    @Test func putOnOneReplicaIsTheLatestOnTheOther() async throws {
        try await Self.withStores { stores, _ in
            let (a, b) = (stores[0], stores[1])
            let first = try await a.put("xor", try Self.content(0.5), precondition: .none)
            #expect(first.version == 1)
            let seen = try #require(try await b.get("xor", version: nil))
            #expect(seen.version == 1 && seen.etag == first.etag && seen.content.json == first.content.json)
            let second = try await a.put("xor", try Self.content(0.7), precondition: .none)
            #expect(second.version == 2)
            #expect(try await b.get("xor", version: nil)?.etag == second.etag)
            #expect(try await b.get("xor", version: 1)?.etag == first.etag)
            #expect(try await b.versions("xor") == [1, 2])
            #expect(try await b.list().map(\.version) == [2])
            #expect(try await b.get("nope", version: nil) == nil)
        }
    }

    @Test func concurrentPutsGetDistinctVersions() async throws {
        try await Self.withStores { stores, _ in
            let content = try Self.content()
            let versions = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<12 {
                    group.addTask { try await stores[index % 2].put("busy", content, precondition: .none).version }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(versions.sorted() == Array(1...12))
            #expect(try await stores[1].versions("busy") == Array(1...12))
        }
    }

    @Test func ofTwoWritersWithTheSameETagExactlyOneWins() async throws {
        try await Self.withStores { stores, _ in
            var etag = try await stores[0].put("race", try Self.content(), precondition: .none).etag
            for round in 0..<5 {
                let condition = WritePrecondition(ifMatch: [etag])
                let content = try Self.content(Double(round))
                let outcomes = await withTaskGroup(of: Result<StoredNetwork, Problem>.self) { group in
                    for store in stores {
                        group.addTask {
                            do throws(Problem) {
                                return .success(try await store.put("race", content, precondition: condition))
                            } catch {
                                return .failure(error)
                            }
                        }
                    }
                    return await group.reduce(into: [Result<StoredNetwork, Problem>]()) { $0.append($1) }
                }
                let winners = outcomes.compactMap { try? $0.get() }
                let losers = outcomes.compactMap { if case .failure(let problem) = $0 { problem } else { nil } }
                #expect(winners.count == 1 && losers.count == 1)
                #expect(losers.first?.status == .preconditionFailed)
                etag = try #require(winners.first).etag
                #expect(try await stores[1].get("race", version: nil)?.etag == etag)
            }
            // If-None-Match: * on an existing name, and If-Match on a missing one: 412.
            let exists = await Self.status {
                _ = try await stores[1].put("race", try Self.content(), precondition: WritePrecondition(ifNoneMatchAny: true))
            }
            #expect(exists?.status == .preconditionFailed)
            let missing = await Self.status {
                _ = try await stores[0].delete("missing", precondition: WritePrecondition(ifMatch: ["\"v1-0\""]))
            }
            #expect(missing?.status == .preconditionFailed)
        }
    }

    @Test func deletesOnOneReplicaAreSeenByTheOther() async throws {
        try await Self.withStores { stores, _ in
            let (a, b) = (stores[0], stores[1])
            _ = try await a.put("gone", try Self.content(0.1), precondition: .none)
            let second = try await a.put("gone", try Self.content(0.2), precondition: .none)
            #expect(try await b.get("gone", version: nil)?.version == 2)
            #expect(try await b.get("gone", version: 1)?.version == 1)
            #expect(b.cache.count == 2)
            // One version: the other replica frees it on the notification, without a read.
            #expect(try await a.delete("gone", version: 2))
            #expect(try await Self.eventually { b.cache.count == 1 }, "the notification freed the deleted version")
            #expect(try await b.get("gone", version: 2) == nil)
            #expect(try await b.get("gone", version: nil)?.version == 1)
            // A stale If-Match is refused; the right one deletes the whole name.
            let stale = await Self.status {
                _ = try await b.delete("gone", precondition: WritePrecondition(ifMatch: [second.etag]))
            }
            #expect(stale?.status == .preconditionFailed)
            let latest = try #require(try await b.get("gone", version: nil))
            #expect(try await b.delete("gone", precondition: WritePrecondition(ifMatch: [latest.etag])))
            #expect(try await a.get("gone", version: nil) == nil)
            #expect(try await a.versions("gone") == [])
            #expect(try await a.list().isEmpty)
            #expect(try await Self.eventually { a.cache.count == 0 && b.cache.count == 0 })
            // Stored again after the delete, versions count from 1 with a new ETag.
            let again = try await b.put("gone", try Self.content(0.9), precondition: .none)
            #expect(again.version == 1)
            #expect(try await a.get("gone", version: nil)?.etag == again.etag)
        }
    }

    @Test func missedNotificationsNeverGiveAWrongAnswer() async throws {
        try await Self.withStores(listening: false) { stores, _ in
            let (a, b) = (stores[0], stores[1])
            _ = try await a.put("quiet", try Self.content(0.1), precondition: .none)
            #expect(try await b.get("quiet", version: nil)?.version == 1)
            let second = try await a.put("quiet", try Self.content(0.2), precondition: .none)
            #expect(try await b.get("quiet", version: nil)?.etag == second.etag)
            #expect(try await a.delete("quiet", precondition: .none))
            #expect(try await b.get("quiet", version: nil) == nil)
            #expect(try await b.get("quiet", version: 1) == nil)
            // Stored again: version 1 once more, with other content; b's cached version 1 is not it.
            let again = try await a.put("quiet", try Self.content(0.3), precondition: .none)
            #expect(again.version == 1)
            let seen = try #require(try await b.get("quiet", version: 1))
            #expect(seen.etag == again.etag && seen.content.json == again.content.json)
        }
    }

    @Test func theCacheParsesEachVersionOnce() async throws {
        try await Self.withStores { stores, _ in
            let (a, b) = (stores[0], stores[1])
            _ = try await a.put("hot", try Self.content(), precondition: .none)
            for _ in 0..<20 {
                #expect(try await a.get("hot", version: nil)?.version == 1)
                #expect(try await b.get("hot", version: nil)?.version == 1)
                #expect(try await b.get("hot", version: 1)?.version == 1)
            }
            #expect(a.parses == 0, "the replica that stored it never parses it")
            #expect(b.parses == 1, "the other parses it once")
            _ = try await a.put("hot", try Self.content(0.3), precondition: .none)
            #expect(try await b.get("hot", version: nil)?.version == 2)
            #expect(try await b.list().map(\.version) == [2])
            #expect(b.parses == 2)
            #expect(b.cache.bytes > 0 && b.cache.bytes == b.cache.budget.held(.networks))
        }
    }

    @Test func anUnreachableDatabaseIs503WithRetryAfter() async throws {
        let port = try ServerProcess.freePort()
        let url = try DatabaseURL("postgres://backprop:secret@127.0.0.1:\(port)/backprop?sslmode=disable")
        let client = PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: Self.logger)
        let store = PostgresNetworkStore(
            client: client, cacheLimit: 1 << 20, budget: MemoryBudget(total: 1 << 30), logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            let content = try Self.content()
            for operation: @Sendable () async throws -> Void in [
                { _ = try await store.get("x", version: nil) },
                { _ = try await store.put("x", content, precondition: .none) },
                { _ = try await store.list() },
                { _ = try await store.delete("x", precondition: .none) },
            ] {
                let problem = await Self.status(operation)
                #expect(problem?.status == .serviceUnavailable)
                #expect(problem?.headers[.retryAfter] != nil)
            }
            group.cancelAll()
        }
    }

    /// Polls `condition` for up to 5 s.
    static func eventually(_ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while !condition() {
            if ContinuousClock.now > deadline { return false }
            try await Task.sleep(for: .milliseconds(20))
        }
        return true
    }
}
