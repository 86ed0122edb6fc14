import BackpropServer
import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Training jobs: every state transition, bounds, the event-stream format, resuming.
@Suite struct JobTests {
    static let xor = """
        {"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7},
         "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
         "epochs": 300, "learning_rate": 2, "seed": 7, "optimizer": {"name": "sgd", "momentum": 0.9}}
        """
    /// Runs for minutes unless cancelled.
    public static let long = """
        {"network": {"inputs": 50, "layers": [{"units": 50}, {"units": 1}], "seed": 1},
         "inputs": [[\(Array(repeating: "0.1", count: 50).joined(separator: ","))]], "targets": [1],
         "epochs": 100000000, "learning_rate": 0.0001}
        """
    /// The initial loss is infinite, so training fails.
    static let failing = """
        {"network": {"layers": [{"weights": [1e200], "activation": "linear"}]}, "inputs": [1e200], "targets": [0]}
        """

    static func waitFor(
        _ client: some TestClientProtocol, _ id: String, status: String, timeout: Duration = .seconds(60)
    ) async throws -> JSONBody {
        let deadline = ContinuousClock.now + timeout
        while true {
            let body = try JSONBody(try await client.execute(uri: "/train/jobs/\(id)", method: .get))
            if body["status"]?.string == status || ContinuousClock.now > deadline { return body }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func submit(_ client: some TestClientProtocol, _ body: String) async throws -> (id: String, response: TestResponse) {
        let response = try await client.post("/train/jobs", body)
        let id = try JSONBody(response)["id"]?.string ?? ""
        return (id, response)
    }

    /// Parses an event stream into (id, event, data) triples, checking its framing.
    static func events(_ text: String) throws -> [(id: Int, event: String, data: JSONBody)] {
        var events: [(Int, String, JSONBody)] = []
        for block in text.components(separatedBy: "\n\n") where !block.isEmpty {
            let lines = block.split(separator: "\n").map(String.init)
            #expect(lines.count == 3, "an event is id, event, data: \(block)")
            let id = try #require(lines.first { $0.hasPrefix("id: ") }.flatMap { Int($0.dropFirst(4)) })
            let event = try #require(lines.first { $0.hasPrefix("event: ") }).dropFirst(7)
            let data = try #require(lines.first { $0.hasPrefix("data: ") }).dropFirst(6)
            let json = try JSONSerialization.jsonObject(with: Data(data.utf8), options: [.fragmentsAllowed])
            events.append((id, String(event), JSONBody(raw: json)))
        }
        return events
    }

    @Test func queuedRunningSucceeded() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let (id, response) = try await Self.submit(client, Self.xor)
            #expect(response.status == .accepted)
            #expect(response.headers[.location] == "/train/jobs/\(id)")
            #expect(try JSONBody(response)["status"]?.string == "queued")
            let done = try await Self.waitFor(client, id, status: "succeeded")
            #expect(done["status"]?.string == "succeeded")
            #expect(done["progress"]?["epoch"]?.number == 300)
            #expect(done["progress"]?["epochs"]?.number == 300)
            #expect(done["result"]?["epochs_run"]?.number == 300)
            #expect(done["result"]?["network"]?["layers"]?.count == 2)
            #expect(done["started_at"]?.string != nil && done["finished_at"]?.string != nil)
            // The same training through POST /train gives the same network and loss.
            let direct = try JSONBody(try await client.post("/train", Self.xor))
            #expect(direct["loss"]?.number == done["result"]?["loss"]?.number)
            let list = try JSONBody(try await client.execute(uri: "/train/jobs", method: .get))
            #expect(list["jobs"]?[0]?["id"]?.string == id)
            #expect(list["jobs"]?[0]?["result"] == nil)
        }
    }

    @Test func runningJobIsCancelledWithinABatch() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let (id, _) = try await Self.submit(client, Self.long)
            _ = try await Self.waitFor(client, id, status: "running")
            try await Task.sleep(for: .milliseconds(200))
            let start = ContinuousClock.now
            let deleted = try await client.execute(uri: "/train/jobs/\(id)", method: .delete)
            #expect(deleted.status == .ok)
            let cancelled = try await Self.waitFor(client, id, status: "cancelled", timeout: .seconds(20))
            #expect(cancelled["status"]?.string == "cancelled")
            // The job had hours of epochs left; the trainer's per-batch check (tested
            // exactly in the core's TrainingTests) ends it at once. The bound is loose
            // because the machine may be loaded.
            #expect(ContinuousClock.now - start < .seconds(10))
            #expect(try #require(cancelled["progress"]?["epoch"]?.number) > 0)
            #expect(cancelled["result"] == nil)
            let stream = try await client.execute(uri: "/train/jobs/\(id)/events", method: .get)
            let events = try Self.events(String(buffer: stream.body))
            #expect(events.last?.event == "cancelled")
            #expect(events.last?.data["reason"]?.string == "cancelled")
        }
    }

    @Test func queuedJobIsCancelledAtOnceAndTheQueueIsBounded() async throws {
        let app = buildApplication(testConfiguration { $0.computeThreads = 1; $0.jobQueue = 1 })
        try await app.test(.router) { client in
            let (running, _) = try await Self.submit(client, Self.long)
            _ = try await Self.waitFor(client, running, status: "running")
            let (queued, queuedResponse) = try await Self.submit(client, Self.xor)
            #expect(try JSONBody(queuedResponse)["status"]?.string == "queued")
            let refused = try await client.post("/train/jobs", Self.xor)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.retryAfter] != nil)
            #expect(refused.headers[.contentType] == "application/problem+json")
            let deleted = try JSONBody(try await client.execute(uri: "/train/jobs/\(queued)", method: .delete))
            #expect(deleted["status"]?.string == "cancelled")
            #expect(deleted["started_at"] == nil)
            // Room again: a new job is accepted and waits its turn.
            let (next, nextResponse) = try await Self.submit(client, Self.xor)
            #expect(nextResponse.status == .accepted)
            _ = try await client.execute(uri: "/train/jobs/\(running)", method: .delete)
            let finished = try await Self.waitFor(client, next, status: "succeeded")
            #expect(finished["status"]?.string == "succeeded")
        }
    }

    @Test func failingJobReportsItsProblem() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let (id, response) = try await Self.submit(client, Self.failing)
            #expect(response.status == .accepted)
            let failed = try await Self.waitFor(client, id, status: "failed")
            #expect(failed["status"]?.string == "failed")
            #expect(failed["error"]?["status"]?.number == 422)
            #expect(failed["error"]?["pointer"]?.string == "/network")
            let events = try Self.events(String(buffer: try await client.execute(uri: "/train/jobs/\(id)/events", method: .get).body))
            #expect(events.map(\.event) == ["failed"])
        }
    }

    @Test func badJobsAreRefusedBeforeTheyStart() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            #expect(try await client.post("/train/jobs", "{").status == .badRequest)
            let mismatch = try await client.post("/train/jobs", #"{"network": {"layers": [{"weights": [1, 2]}]}, "inputs": [[1]], "targets": [1]}"#)
            #expect(mismatch.status == .unprocessableContent)
            #expect(try JSONBody(mismatch)["pointer"]?.string == "/inputs")
            let missing = try await client.execute(uri: "/train/jobs/0123456789abcdef", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
            let wrong = try await client.execute(uri: "/train/jobs/0123456789abcdef", method: .put)
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.headers[.allow] == "GET, HEAD, DELETE")
            let list = try JSONBody(try await client.execute(uri: "/train/jobs", method: .get))
            #expect(list["jobs"]?.count == 0)
        }
    }

    @Test func eventStreamFormatAndResume() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let (id, _) = try await Self.submit(client, Self.xor)
            let done = try await Self.waitFor(client, id, status: "succeeded")
            let response = try await client.execute(uri: "/train/jobs/\(id)/events", method: .get)
            #expect(response.headers[.contentType] == "text/event-stream")
            #expect(response.headers[.cacheControl] == "no-cache")
            let events = try Self.events(String(buffer: response.body))
            // Every epoch of 300 is a history point, so each has its progress event; then done.
            #expect(events.map(\.id) == Array(1...events.count))
            #expect(events.count == 301)
            #expect(events.dropLast().allSatisfy { $0.event == "progress" })
            #expect(events[0].data["epoch"]?.number == 1)
            #expect(events[0].data["epochs"]?.number == 300)
            #expect(events[299].data["loss"]?.number == done["result"]?["loss"]?.number)
            #expect(events.last?.event == "done")
            #expect(events.last?.data["loss"]?.number == done["result"]?["loss"]?.number)
            // Resuming after event 250 gives 251… with nothing repeated or missing.
            let resumed = try await client.execute(
                uri: "/train/jobs/\(id)/events", method: .get, headers: [HTTPField.Name("Last-Event-ID")!: "250"])
            let rest = try Self.events(String(buffer: resumed.body))
            #expect(rest.map(\.id) == Array(251...301))
            #expect(rest.last?.event == "done")
        }
    }

    /// `Last-Event-ID` is a non-negative integer; anything else is a 400 naming the
    /// header (on the event stream and on a streamed `POST /train`), not a replay of
    /// every event.
    @Test(arguments: ["-1", "abc", "", "1.5", "+3"])
    func badLastEventIDIsRefused(value: String) async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let (id, _) = try await Self.submit(client, Self.xor)
            _ = try await Self.waitFor(client, id, status: "succeeded")
            let header = HTTPField.Name("Last-Event-ID")!
            let events = try await client.execute(uri: "/train/jobs/\(id)/events", method: .get, headers: [header: value])
            let streamed = try await client.post("/train", Self.xor, headers: [.accept: "text/event-stream", header: value])
            for response in [events, streamed] {
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try JSONBody(response)
                #expect(problem["title"]?.string == "Invalid Last-Event-ID")
                #expect(problem["status"]?.number == 400)
            }
            // Past the last event: nothing more to send, the stream ends empty.
            let past = try await client.execute(
                uri: "/train/jobs/\(id)/events", method: .get, headers: [header: "99999999999999999999999"])
            #expect(past.status == .ok)
            #expect(try Self.events(String(buffer: past.body)).isEmpty)
        }
    }

    @Test func trainWithEventStreamAccept() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.post("/train", Self.xor, headers: [.accept: "text/event-stream"])
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let location = try #require(response.headers[.location])
            let events = try Self.events(String(buffer: response.body))
            #expect(events.count == 301)
            #expect(events.last?.event == "done")
            let job = try JSONBody(try await client.execute(uri: location, method: .get))
            #expect(job["status"]?.string == "succeeded")
            #expect(job["result"]?["loss"]?.number == events.last?.data["loss"]?.number)
        }
    }
}
