import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BackpropServer

/// The PostgreSQL job store against a real server (`BACKPROP_TEST_DATABASE_URL`):
/// every test gets a new database. Skipped, and saying so, without the variable.
@Suite(
    .enabled(
        if: TestDatabase.isAvailable || TestDatabase.isRequired,
        "BACKPROP_TEST_DATABASE_URL is not set: the PostgreSQL job store suite is skipped"),
    .serialized)
struct PostgresJobStoreTests {
    /// Several seconds of training in a debug build (a checkpoint comes every second).
    static let medium = """
        {"network": {"inputs": 4, "layers": [{"units": 24}, {"units": 1}], "seed": 3},
         "inputs": [\((0..<64).map { i in "[\((0..<4).map { j in String(Double((i * 7 + j * 3) % 11) / 11) }.joined(separator: ","))]" }.joined(separator: ","))],
         "targets": [\((0..<64).map { i in String(Double(i % 5) / 5) }.joined(separator: ","))],
         "epochs": 10000, "batch_size": 8, "learning_rate": 0.05, "optimizer": "adam", "seed": 11}
        """

    static func configuration(_ url: DatabaseURL, replica: String, _ modify: (inout Configuration) -> Void = { _ in }) -> Configuration {
        testConfiguration {
            $0.databaseURL = url
            $0.replicaID = replica
            $0.leaseSeconds = 3
            $0.heartbeatSeconds = 1
            $0.checkpointSeconds = 1
            $0.computeThreads = 1
            modify(&$0)
        }
    }

    /// The trained network, loss and history of a job's result (or of /train).
    static func outcome(_ body: JSONBody?) -> [Double] {
        var numbers: [Double] = []
        for layer in (body?["network"]?["layers"]?.value as? [Any]) ?? [] {
            let layer = JSONBody(raw: layer)
            numbers += layer["weights"]?.matrix?.flatMap { $0 } ?? layer["weights"]?.numbers ?? []
            numbers += layer["biases"]?.numbers ?? layer["biases"]?.number.map { [$0] } ?? []
        }
        numbers += [body?["loss"]?.number ?? .nan]
        numbers += body?["history"]?["loss"]?.numbers ?? []
        return numbers
    }

    /// What an uninterrupted run in one process gives.
    static func reference(_ body: String) async throws -> [Double] {
        try await buildApplication(testConfiguration()).test(.router) { client in
            outcome(try JSONBody(try await client.post("/train", body)))
        }
    }

    static func waitFor(
        _ client: some TestClientProtocol, _ id: String, _ statuses: Set<String>, timeout: Duration = .seconds(120)
    ) async throws -> JSONBody {
        let deadline = ContinuousClock.now + timeout
        while true {
            let body = try JSONBody(try await client.execute(uri: "/train/jobs/\(id)", method: .get))
            if statuses.contains(body["status"]?.string ?? "") || ContinuousClock.now > deadline { return body }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func submit(_ client: some TestClientProtocol, _ body: String, key: String? = nil) async throws -> TestResponse {
        try await waitUntilReady(client)
        var headers: HTTPFields = [:]
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return try await client.post("/train/jobs", body, headers: headers)
    }

    /// Waits (up to 30 s) until the replica has connected and migrated: GET /health/ready is 200.
    static func waitUntilReady(_ client: some TestClientProtocol) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await client.execute(uri: "/health/ready", method: .get).status != .ok, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits until the job has a stored checkpoint; returns its epoch.
    static func waitForCheckpoint(_ id: String, on url: DatabaseURL) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let rows = try await TestDatabase.rows("SELECT checkpoint_epoch::text FROM jobs WHERE id = '\(id)'", on: url)
            if let epoch = rows.first?.first.flatMap({ $0 }).flatMap(Int.init) { return epoch }
            try await Task.sleep(for: .milliseconds(100))
        }
        return -1
    }

    static func checkEvents(_ client: some TestClientProtocol, _ id: String, last: String) async throws {
        let stream = try await client.execute(uri: "/train/jobs/\(id)/events", method: .get)
        let events = try JobTests.events(String(buffer: stream.body))
        #expect(events.map(\.id) == Array(1...max(1, events.count)), "event ids have no gaps and no repeats")
        let epochs = events.filter { $0.event == "progress" }.compactMap { $0.data["epoch"]?.number }
        #expect(zip(epochs, epochs.dropFirst()).allSatisfy { $0 < $1 }, "progress epochs only increase: \(epochs)")
        #expect(events.last?.event == last)
        // Resuming after any event gives exactly the rest.
        if events.count > 2 {
            let resumed = try await client.execute(
                uri: "/train/jobs/\(id)/events", method: .get, headers: [HTTPField.Name("Last-Event-ID")!: "2"])
            #expect(try JobTests.events(String(buffer: resumed.body)).map(\.id) == Array(3...events.count))
        }
    }

    @Test func jobRunsWithTheSameBitsAsInOneProcess() async throws {
        let expected = try await Self.reference(JobTests.xor)
        try await TestDatabase.with { url in
            try await buildApplication(Self.configuration(url, replica: "a")).test(.router) { client in
                let response = try await Self.submit(client, JobTests.xor)
                #expect(response.status == .accepted)
                let id = try #require(try JSONBody(response)["id"]?.string)
                #expect(response.headers[.location] == "/train/jobs/\(id)")
                let done = try await Self.waitFor(client, id, ["succeeded", "failed"])
                #expect(done["status"]?.string == "succeeded")
                #expect(done["progress"]?["epoch"]?.number == 300)
                #expect(Self.outcome(done["result"]) == expected)
                try await Self.checkEvents(client, id, last: "done")
                let list = try JSONBody(try await client.execute(uri: "/train/jobs", method: .get))
                #expect(list["jobs"]?[0]?["id"]?.string == id)
                let missing = try await client.execute(uri: "/train/jobs/0123456789abcdef", method: .get)
                #expect(missing.status == .notFound)
            }
        }
    }

    @Test func anyReplicaAnswersAndCancels() async throws {
        try await TestDatabase.with { url in
            let a = buildApplication(Self.configuration(url, replica: "a"))
            let b = buildApplication(Self.configuration(url, replica: "b") { $0.computeThreads = 1 })
            try await a.test(.router) { clientA in
                try await b.test(.router) { clientB in
                    let id = try #require(try JSONBody(try await Self.submit(clientA, JobTests.long))["id"]?.string)
                    let running = try await Self.waitFor(clientB, id, ["running"])
                    #expect(running["status"]?.string == "running")
                    try await Task.sleep(for: .milliseconds(300))
                    let start = ContinuousClock.now
                    let deleted = try await clientB.execute(uri: "/train/jobs/\(id)", method: .delete)
                    #expect(deleted.status == .ok)
                    let cancelled = try await Self.waitFor(clientA, id, ["cancelled"], timeout: .seconds(10))
                    #expect(cancelled["status"]?.string == "cancelled")
                    #expect(ContinuousClock.now - start < .seconds(3), "cancelled through the notification, not only the heartbeat")
                    try await Self.checkEvents(clientB, id, last: "cancelled")
                    let list = try JSONBody(try await clientB.execute(uri: "/train/jobs", method: .get))
                    #expect(list["jobs"]?[0]?["id"]?.string == id)
                }
            }
        }
    }

    @Test func rescuedJobResumesFromItsCheckpointBitForBit() async throws {
        let expected = try await Self.reference(Self.medium)
        try await TestDatabase.with { url in
            try await buildApplication(Self.configuration(url, replica: "a")).test(.router) { client in
                let id = try #require(try JSONBody(try await Self.submit(client, Self.medium))["id"]?.string)
                let epoch = try await Self.waitForCheckpoint(id, on: url)
                #expect(epoch > 0)
                // What the sweep does to an expired lease: the job goes back to the queue,
                // the running worker's token no longer matches, and it writes nothing more.
                try await TestDatabase.execute(
                    "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL WHERE id = '\(id)'",
                    on: url)
                let done = try await Self.waitFor(client, id, ["succeeded", "failed"])
                #expect(done["status"]?.string == "succeeded")
                #expect(Self.outcome(done["result"]) == expected)
                let attempts = try await TestDatabase.rows("SELECT attempt::text FROM jobs WHERE id = '\(id)'", on: url)
                #expect(attempts.first?.first == "2")
                try await Self.checkEvents(client, id, last: "done")
            }
        }
    }

    @Test func shutdownHandsRunningJobsBackBitForBit() async throws {
        let expected = try await Self.reference(Self.medium)
        try await TestDatabase.with { url in
            let id = try await buildApplication(Self.configuration(url, replica: "a") { $0.shutdownGraceSeconds = 0 }).test(.router) { client in
                let id = try #require(try JSONBody(try await Self.submit(client, Self.medium))["id"]?.string)
                #expect(try await Self.waitForCheckpoint(id, on: url) > 0)
                return id
            }
            let state = try await TestDatabase.rows("SELECT state, attempt::text, (checkpoint IS NOT NULL)::text FROM jobs WHERE id = '\(id)'", on: url)
            #expect(state.first == ["queued", "0", "true"], "handed back, not cancelled, not counted as an attempt")
            try await buildApplication(Self.configuration(url, replica: "b")).test(.router) { client in
                let done = try await Self.waitFor(client, id, ["succeeded", "failed"])
                #expect(done["status"]?.string == "succeeded")
                #expect(Self.outcome(done["result"]) == expected)
                try await Self.checkEvents(client, id, last: "done")
            }
        }
    }

    @Test func idempotencyKeyGivesTheSameJob() async throws {
        try await TestDatabase.with { url in
            try await buildApplication(Self.configuration(url, replica: "a")).test(.router) { client in
                try await Self.waitUntilReady(client)
                try await IdempotencyTests.check(client)
            }
        }
    }

    @Test func migrationsRaceSafely() async throws {
        try await TestDatabase.with { url in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for replica in 0..<4 {
                    group.addTask {
                        let store = PostgresJobStore(
                            url: url, settings: Self.settings("m\(replica)"), limits: Limits(), logger: .init(label: "test"))
                        try await store.prepareDatabase()
                    }
                }
                try await group.waitForAll()
            }
            let versions = try await TestDatabase.rows("SELECT version::text FROM schema_migrations ORDER BY version", on: url)
            #expect(versions == [["1"], ["2"]])
        }
    }

    @Test func wrongPasswordIsAClearErrorWithoutThePassword() async throws {
        try await TestDatabase.with { url in
            var wrong = url
            wrong.password = "not-the-password-\(UInt32.random(in: 0 ... .max))"
            let store = PostgresJobStore(url: wrong, settings: Self.settings("w"), limits: Limits(), logger: .init(label: "test"))
            let error = await #expect(throws: DatabaseURLError.self) { try await store.prepareDatabase() }
            let message = "\(error.map { "\($0)" } ?? "")"
            #expect(message.contains("password authentication failed"))
            #expect(!message.contains(wrong.password!))
            #expect(!"\(wrong)".contains(wrong.password!))
        }
    }

    @Test func retentionKeepsTheNewestFinishedJobs() async throws {
        try await TestDatabase.with { url in
            var settings = Self.settings("r")
            settings.kept = 2
            let store = PostgresJobStore(url: url, settings: settings, limits: Limits(), logger: .init(label: "test"))
            try await store.prepareDatabase()
            for index in 0..<5 {
                try await TestDatabase.execute(
                    """
                    INSERT INTO jobs (id, state, request, epochs, finished_at)
                    VALUES ('job\(index)', 'succeeded', '{}', 1, now() - make_interval(secs => \(10 - index)))
                    """, on: url)
            }
            try await TestDatabase.execute("INSERT INTO jobs (id, state, request, epochs) VALUES ('waiting', 'queued', '{}', 1)", on: url)
            let deleted = try await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask { await store.client.run(); return -1 }
                group.addTask { try await store.enforceRetention() }
                let deleted = try await group.next()!
                group.cancelAll()
                return deleted
            }
            #expect(deleted == 3)
            let left = try await TestDatabase.rows("SELECT id FROM jobs ORDER BY id", on: url)
            #expect(left == [["job3"], ["job4"], ["waiting"]])
        }
    }

    static func settings(_ replica: String) -> PostgresJobStore.Settings {
        .init(
            replicaID: replica, leaseSeconds: 3, heartbeatSeconds: 1, maxAttempts: 3, checkpointSeconds: 1, slots: 1,
            queueLimit: 16, kept: 100, retentionSeconds: 3600)
    }
}
