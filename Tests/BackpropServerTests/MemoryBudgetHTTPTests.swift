import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BackpropServer

/// The memory budget over HTTP: streamed answers, bodies that find no room, kept results.
@Suite struct MemoryBudgetHTTPTests {
    static let mib = 1 << 20

    /// 100 samples through a generated 1→`units` layer: 100 × `units` numbers of answer.
    static func wideForward(units: Int) -> String {
        let inputs = (0..<100).map { "[\(Double($0) / 100)]" }.joined(separator: ",")
        return #"{"network": {"inputs": 1, "layers": [{"units": \#(units)}], "seed": 3}, "input": [\#(inputs)]}"#
    }

    /// About 10 MB of answer.
    static let wideForward = wideForward(units: 5000)

    static func metric(_ text: String, _ name: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test func aLargeAnswerIsStreamedWithTheSameBytesAndItsRoomGivenBack() async throws {
        let app = buildApplication(testConfiguration { $0.memoryBudget = 64 * Self.mib })
        try await app.test(.live) { client in
            let response = try await client.post("/forward", Self.wideForward)
            #expect(response.status == .ok)
            #expect(response.headers[.contentLength] == nil, "streamed, so no length up front")
            let body = try BackpropServer.RequestBody.json(Array(Self.wideForward.utf8)[...])
            let expected = JSONWriter.encode(try ForwardWire.respond(to: body, limits: Limits()))
            #expect(expected.count > Answer.streamThreshold)
            #expect(Array(response.body.readableBytesView) == expected)

            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(Self.metric(metrics, "backprop_memory_budget_bytes") == Double(64 * Self.mib))
            #expect(Self.metric(metrics, #"backprop_memory_held_bytes{kind="answers"}"#) == 0)
            #expect(Self.metric(metrics, #"backprop_memory_held_bytes{kind="bodies"}"#) == 0)
        }
    }

    @Test func anAnswerLargerThanTheBudgetIsA422() async throws {
        // 16 MiB: 4 MiB reserved for small requests, 12 MiB for the rest; the answer holds
        // 2 M numbers (16 MB), so it could never fit: no retry would help.
        let app = buildApplication(testConfiguration { $0.memoryBudget = 16 * Self.mib })
        try await app.test(.live) { client in
            let refused = try await client.post("/forward", Self.wideForward(units: 20_000))
            #expect(refused.status == .unprocessableContent)
            #expect(refused.headers[.retryAfter] == nil)
            #expect(try JSONBody(refused)["title"]?.string == "Answer too large")
            // Small requests still go through.
            let small = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(small.status == .ok)
        }
    }

    @Test func aClientThatReadsNothingOfALargeAnswerIsDisconnected() async throws {
        // A 38 MB answer: far more than the loopback's socket buffers take, so its writer
        // waits for the client; after the 1 s idle timeout the connection is closed and
        // the answer's room given back.
        let app = buildApplication(testConfiguration { $0.idleTimeoutSeconds = 1 })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let stalled = try RawConnection(port: port)
            defer { stalled.close() }
            try stalled.sendPost("/forward", Self.wideForward(units: 20_000))
            var held: Double? = nil
            var released = false
            for _ in 0..<100 where !released {
                try await Task.sleep(for: .milliseconds(100))
                // A connection of its own each time: with the 1 s idle timeout a kept-alive
                // one may be closed between polls when the machine is busy.
                let probe = try RawConnection(port: port)
                try probe.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                let metrics = String(decoding: await probe.readToEnd(timeout: .seconds(10)), as: UTF8.self)
                probe.close()
                let now = Self.metric(metrics, #"backprop_memory_held_bytes{kind="answers"}"#)
                if held == nil, let now, now > 0 { held = now }
                released = held != nil && now == 0
            }
            #expect((held ?? 0) > 10_000_000, "the answer was held while it waited: \(String(describing: held))")
            #expect(released, "and given back once the client was disconnected")
            // What the client gets is the start of the answer, then the end of the connection.
            let received = await stalled.readToEnd(timeout: .seconds(20))
            #expect(received.starts(with: Array("HTTP/1.1 200".utf8)))
            #expect(received.count > 0 && received.count < 38_000_000)
        }
    }

    @Test func aLargeBodyWithNoRoomWaitsUnreadThenGetsA503WhileSmallOnesPass() async throws {
        let app = buildApplication(testConfiguration {
            $0.memoryBudget = 16 * Self.mib
            $0.requestTimeoutSeconds = 2
        })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let big = try RawConnection(port: port)
            defer { big.close() }
            // 13 MB never fits the 12 MiB outside the small requests' reserve.
            try big.send("POST /forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 13000000\r\n\r\n{\"network\":")
            let small = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(small.status == .ok)
            let start = ContinuousClock.now
            let answer = await big.read(until: "\r\n\r\n", timeout: .seconds(30))
            #expect(answer.hasPrefix("HTTP/1.1 503"), "\(answer)")
            #expect(answer.lowercased().contains("retry-after: 5"))
            #expect(answer.lowercased().contains("connection: close"))
            #expect(ContinuousClock.now - start < .seconds(20))
        }
    }
}


/// Finished jobs' results within their share of the budget (a quarter).
@Suite struct KeptResultsTests {
    /// One epoch of a generated 300→1000 layer: a result of 300 k weights, about 2.4 MB in memory.
    static let wideTraining: String = {
        let inputs = Array(repeating: "0.1", count: 300).joined(separator: ",")
        let targets = Array(repeating: "0", count: 1000).joined(separator: ",")
        return #"{"network": {"inputs": 300, "layers": [{"units": 1000}], "seed": 1}, "inputs": [[\#(inputs)]], "targets": [[\#(targets)]], "epochs": 1}"#
    }()

    @Test func theOldestResultsAreDroppedPastTheirShareAndGetSaysSo() async throws {
        // 16 MiB: results may hold 4 MiB, so one 2.4 MB result is kept and older ones dropped.
        let app = buildApplication(testConfiguration { $0.memoryBudget = 16 << 20 })
        try await app.test(.live) { client in
            var ids: [String] = []
            for _ in 0..<3 {
                let (id, response) = try await JobTests.submit(client, Self.wideTraining)
                #expect(response.status == .accepted)
                let done = try await JobTests.waitFor(client, id, status: "succeeded")
                #expect(done["status"]?.string == "succeeded")
                ids.append(id)
            }
            let newest = try await client.execute(uri: "/train/jobs/\(ids[2])", method: .get)
            #expect(newest.status == .ok)
            #expect(try JSONBody(newest)["result"]?["network"] != nil)
            for id in ids.prefix(2) {
                let dropped = try await client.execute(uri: "/train/jobs/\(id)", method: .get)
                #expect(dropped.status == .gone)
                #expect(dropped.headers[.contentType] == "application/problem+json")
                #expect(try JSONBody(dropped)["title"]?.string == "Result dropped")
            }
            let list = try JSONBody(try await client.execute(uri: "/train/jobs", method: .get))
            #expect(list["jobs"]?[0]?["result_dropped"] != nil)
            #expect(list["jobs"]?[2]?["result_dropped"] == nil)
            // The dropped job's stream still ends with its done event, which now carries the problem.
            let events = String(buffer: try await client.execute(uri: "/train/jobs/\(ids[0])/events", method: .get).body)
            #expect(events.contains("event: done\ndata: {\"type\""))
            #expect(events.contains("Result dropped"))
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            let held = MemoryBudgetHTTPTests.metric(metrics, #"backprop_memory_held_bytes{kind="results"}"#)
            #expect(held.map { $0 > 2_000_000 && $0 <= 4 * 1_048_576 } == true, "\(String(describing: held))")
        }
    }
}
