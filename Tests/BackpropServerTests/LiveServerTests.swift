import BackpropServer
import BackpropTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Over a real socket: keep-alive, and concurrency that changes no bit of any result.
@Suite struct LiveServerTests {
    /// Distinct requests: the seed examples, batches, generated networks and a short training.
    static let requests: [(String, String)] = {
        var requests = [("/gradient", SeedRequests.singleNeuron), ("/gradient", SeedRequests.hiddenLayer)]
        for seed in 1...6 {
            requests.append(("/gradient", """
                {"network": {"inputs": 3, "layers": [{"units": 8, "activation": "tanh"}, {"units": 3, "activation": "softmax"}], "seed": \(seed)},
                 "input": [[0.1, 0.2, 0.3], [-1, 0.5, \(seed)]], "target": [[1, 0, 0], [0, 0.5, 0.5]], "loss": "cross_entropy"}
                """))
            requests.append(("/train", """
                {"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": \(seed)},
                 "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0], "epochs": 200,
                 "batch_size": 1, "seed": \(seed), "optimizer": "adam", "learning_rate": 0.05}
                """))
        }
        return requests
    }()

    @Test func keepAliveServesManyRequestsOnOneConnection() async throws {
        // The live test client holds a single connection: every request below reuses it.
        try await buildApplication(testConfiguration()).test(.live) { client in
            for _ in 0..<20 {
                let response = try await client.post("/gradient", SeedRequests.hiddenLayer)
                #expect(response.status == .ok)
                #expect(response.headers[.connection] != "close")
            }
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
        }
    }

    @Test func concurrentResultsAreBitIdenticalToSequentialOnes() async throws {
        try await buildApplication(testConfiguration { $0.computeQueue = 256 }).test(.ahc(.http)) { client in
            var sequential: [String] = []
            for (route, body) in Self.requests {
                let response = try await client.post(route, body)
                #expect(response.status == .ok)
                sequential.append(Self.withoutDuration(String(buffer: response.body)))
            }
            let concurrent = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for round in 0..<3 {
                    for (index, (route, body)) in Self.requests.enumerated() {
                        group.addTask {
                            let response = try await client.post(route, body)
                            #expect(response.status == .ok, "round \(round)")
                            return (index, Self.withoutDuration(String(buffer: response.body)))
                        }
                    }
                }
                var results: [(Int, String)] = []
                for try await result in group { results.append(result) }
                return results
            }
            #expect(concurrent.count == 3 * Self.requests.count)
            for (index, text) in concurrent {
                #expect(text == sequential[index], "request \(index) differs")
            }
        }
    }

    /// The timing is the one field that may differ between runs.
    static func withoutDuration(_ text: String) -> String {
        text.replacingOccurrences(of: #""duration_ms":[0-9.e+-]+"#, with: "", options: .regularExpression)
    }
}

@Suite struct DisconnectTests {
    /// With one compute thread and no queue, a /train that runs for minutes holds the
    /// pool; once its client hangs up, the pool frees within a batch and serves again.
    @Test func trainStopsWhenTheClientDisconnects() async throws {
        // Every /gradient through the pool (none inline), so the busy pool shows.
        let app = buildApplication(testConfiguration { $0.computeThreads = 1; $0.computeQueue = 0; $0.inlineWork = 0 })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let connection = try RawConnection(port: port)
            try connection.sendPost("/train", """
                {"network": {"inputs": 50, "layers": [{"units": 50}, {"units": 1}], "seed": 1},
                 "inputs": [[\(Array(repeating: "0.1", count: 50).joined(separator: ","))]], "targets": [1],
                 "epochs": 5000000, "learning_rate": 0.001}
                """)
            try await Task.sleep(for: .milliseconds(300))
            let busy = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(busy.status == .tooManyRequests)
            connection.close()
            var freed = false
            for _ in 0..<50 where !freed {
                try await Task.sleep(for: .milliseconds(100))
                freed = try await client.post("/gradient", SeedRequests.singleNeuron).status == .ok
            }
            #expect(freed)
        }
    }
}

@Suite struct SlowAndBrokenBodyTests {
    /// A body trickling in slower than --request-timeout gets its connection closed
    /// unanswered; a broken chunked body is a 400, not a 500.
    @Test func slowBodyTimesOutAndBrokenChunksAreBadRequests() async throws {
        let app = buildApplication(testConfiguration { $0.requestTimeoutSeconds = 1 })
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let slow = try RawConnection(port: port)
            try slow.send("POST /gradient HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{\"network\":")
            // Generous bounds: in a full `swift test` run, CPU-heavy core tests share the machine.
            let start = ContinuousClock.now
            let answer = await slow.read(until: "HTTP/1.1", timeout: .seconds(60))
            #expect(answer.isEmpty, "closed without an answer, not \(answer)")
            #expect(ContinuousClock.now - start < .seconds(30), "closed after the 1 s timeout")
            slow.close()

            let chunked = try RawConnection(port: port)
            try chunked.send("POST /gradient HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
            let broken = await chunked.read(until: "\r\n\r\n", timeout: .seconds(60))
            #expect(broken.contains("HTTP/1.1 400"), "\(broken)")
            chunked.close()

            let fine = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(fine.status == .ok)
        }
    }
}
