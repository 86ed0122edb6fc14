import BackpropServer
import BackpropTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Every error status in API.md's table, as problem+json naming the field at fault.
@Suite struct ErrorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var route: String
        var body: String
        var status: Int
        var pointer: String?
        var detail: String
        var testDescription: String { name }
    }

    static let seedNetwork = #"{"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]}"#

    static let cases: [Case] = [
        Case(name: "empty body", route: "/gradient", body: "", status: 400, pointer: nil, detail: "the body is empty"),
        Case(name: "truncated JSON", route: "/forward", body: "{\n  \"network\": {\"layers\": [", status: 400, pointer: nil,
             detail: "line 2, column 26"),
        Case(name: "missing field", route: "/gradient", body: #"{"network": \#(seedNetwork), "input": [1, 2, 3]}"#,
             status: 400, pointer: "/target", detail: "target is required"),
        Case(name: "boolean for a number", route: "/gradient",
             body: #"{"network": \#(seedNetwork), "input": [1, 2, 3], "target": 1, "learning_rate": true}"#,
             status: 400, pointer: "/learning_rate", detail: "learning_rate must be a number, not a boolean"),
        Case(name: "string in a matrix", route: "/forward",
             body: #"{"network": {"layers": [{"weights": [[1, 2], "x"]}]}, "input": [1, 2]}"#,
             status: 400, pointer: "/network/layers/0/weights/1", detail: "must be an array of numbers, not a string"),
        Case(name: "unknown field", route: "/forward", body: #"{"network": \#(seedNetwork), "input": [1, 2, 3], "learning-rate": 1}"#,
             status: 400, pointer: "/learning-rate", detail: "unknown field \"learning-rate\""),
        Case(name: "layer shape mismatch", route: "/forward",
             body: #"{"network": {"layers": [{"weights": [[1, 2], [3, 4]]}, {"weights": [[1], [2], [3]]}]}, "input": [1, 2]}"#,
             status: 422, pointer: "/network/layers/1/weights", detail: "layers[1].weights has 3 rows, but layers[0] has 2 units"),
        Case(name: "input too short", route: "/gradient", body: #"{"network": \#(seedNetwork), "input": [1, 2], "target": 1}"#,
             status: 422, pointer: "/input", detail: "has 2 values per sample, but the network takes 3"),
        Case(name: "target of the wrong shape", route: "/gradient",
             body: #"{"network": \#(seedNetwork), "input": [[1, 2, 3], [4, 5, 6]], "target": [1, 2, 3]}"#,
             status: 422, pointer: "/target", detail: "must be an array of 2 numbers"),
        Case(name: "ragged matrix", route: "/forward", body: #"{"network": \#(seedNetwork), "input": [[1, 2, 3], [4, 5]]}"#,
             status: 422, pointer: "/input/1", detail: "has 2 numbers, but row 0 has 3"),
        Case(name: "unknown activation", route: "/forward",
             body: #"{"network": {"layers": [{"weights": [1], "activation": "swish"}]}, "input": [1]}"#,
             status: 422, pointer: "/network/layers/0/activation", detail: "\"swish\", which is not one of"),
        Case(name: "softmax not last", route: "/forward",
             body: #"{"network": {"layers": [{"weights": [[1, 2]], "activation": "softmax"}, {"weights": [1, 1]}]}, "input": [1]}"#,
             status: 422, pointer: "/network/layers/0/activation", detail: "softmax is allowed only on the last layer"),
        Case(name: "cross_entropy on relu", route: "/gradient",
             body: #"{"network": {"layers": [{"weights": [1], "activation": "relu"}]}, "input": [1], "target": 1, "loss": "cross_entropy"}"#,
             status: 422, pointer: "/loss", detail: "cross_entropy needs a sigmoid or softmax output layer"),
        Case(name: "cross_entropy target outside [0, 1]", route: "/gradient",
             body: #"{"network": {"layers": [{"weights": [1]}]}, "input": [[1], [2]], "target": [0.5, 2], "loss": "cross_entropy"}"#,
             status: 422, pointer: "/target/1", detail: "row 1: cross_entropy targets must lie in [0, 1]"),
        Case(name: "number beyond double", route: "/forward", body: #"{"network": {"layers": [{"weights": [1e400]}]}, "input": [1]}"#,
             status: 422, pointer: "/network/layers/0/weights/0", detail: "beyond the range of a double"),
        Case(name: "non-finite result", route: "/forward",
             body: #"{"network": {"layers": [{"weights": [1e308], "activation": "linear"}, {"weights": [10], "activation": "linear"}]}, "input": [1]}"#,
             status: 422, pointer: "/network/layers/1", detail: "layer 1 overflows"),
        Case(name: "too many parameters", route: "/forward",
             body: #"{"network": {"inputs": 100000, "layers": [{"units": 100000}]}, "input": [1]}"#,
             status: 422, pointer: "/network", detail: "over this server's limit of 10000000"),
        Case(name: "over the synchronous budget", route: "/train",
             body: #"{"network": {"inputs": 100, "layers": [{"units": 100}, {"units": 1}]}, "inputs": [[\#(Array(repeating: "0", count: 100).joined(separator: ","))]], "targets": [1], "epochs": 1000000000}"#,
             status: 422, pointer: "/epochs", detail: "/train/jobs"),
        Case(name: "weight deltas that overflow", route: "/gradient",
             body: #"{"network": {"layers": [{"weights": [1], "biases": 0}]}, "input": [10], "target": 0, "learning_rate": 1.7e308, "loss": "cross_entropy"}"#,
             status: 422, pointer: "/network/layers/0", detail: "weight deltas of layer 0 overflow"),
        Case(name: "one sample's bad target names the target", route: "/gradient",
             body: #"{"network": {"layers": [{"weights": [1]}]}, "input": [1], "target": 1.5, "loss": "cross_entropy"}"#,
             status: 422, pointer: "/target", detail: "cross_entropy targets must lie in [0, 1]"),
        Case(name: "one training sample's bad target names the targets", route: "/train",
             body: #"{"network": {"layers": [{"weights": [1, 1]}]}, "inputs": [1, 2], "targets": 1.5, "loss": "cross_entropy"}"#,
             status: 422, pointer: "/targets", detail: "cross_entropy targets must lie in [0, 1]"),
        Case(name: "generated first layer without inputs", route: "/forward",
             body: #"{"network": {"layers": [{"units": 2}]}, "input": [1]}"#,
             status: 400, pointer: "/network/inputs", detail: "network.inputs is required"),
        Case(name: "a billion epochs of a tiny network", route: "/train",
             body: #"{"network": {"layers": [{"weights": [0.5]}]}, "inputs": [1], "targets": [0.1], "epochs": 1000000000}"#,
             status: 422, pointer: "/epochs", detail: "/train/jobs"),
        Case(name: "negative epochs", route: "/train", body: #"{"network": \#(seedNetwork), "inputs": [[1, 2, 3]], "targets": [1], "epochs": -1}"#,
             status: 422, pointer: "/epochs", detail: "must be an integer from 0"),
        Case(name: "nesterov without momentum", route: "/train",
             body: #"{"network": \#(seedNetwork), "inputs": [[1, 2, 3]], "targets": [1], "optimizer": {"name": "sgd", "nesterov": true}}"#,
             status: 422, pointer: "/optimizer/nesterov", detail: "nesterov needs a momentum above 0"),
        Case(name: "a momentum of 1", route: "/train",
             body: #"{"network": \#(seedNetwork), "inputs": [[1, 2, 3]], "targets": [1], "optimizer": {"name": "sgd", "momentum": 1}}"#,
             status: 422, pointer: "/optimizer/momentum", detail: "optimizer.momentum must be in [0, 1)"),
        Case(name: "a validation target's row is named in the validation set", route: "/train",
             body: #"{"network": \#(seedNetwork), "inputs": [[1, 2, 3]], "targets": [1], "loss": "cross_entropy", "validation": {"inputs": [[1, 2, 3], [4, 5, 6]], "targets": [0.5, 3]}}"#,
             status: 422, pointer: "/validation/targets/1", detail: "validation.targets[1]: row 1: cross_entropy targets must lie in [0, 1]"),
        Case(name: "one sample's non-finite target in a softmax network", route: "/gradient",
             body: #"{"network": {"layers": [{"weights": [[1, 2]], "activation": "softmax"}]}, "input": [1], "target": [0.5, 0.4], "loss": "cross_entropy"}"#,
             status: 422, pointer: "/target", detail: "target: row 0: softmax cross_entropy targets must sum to 1, not 0.9"),
    ]

    @Test(arguments: cases)
    func problem(_ c: Case) async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.post(c.route, c.body)
            #expect(response.status.code == c.status, "\(String(buffer: response.body))")
            #expect(response.headers[.contentType] == "application/problem+json")
            let body = try JSONBody(response)
            #expect(body["status"]?.number == Double(c.status))
            #expect(body["type"]?.string == "about:blank")
            #expect(body["title"]?.string?.isEmpty == false)
            #expect(body["pointer"]?.string == c.pointer)
            let detail = try #require(body["detail"]?.string)
            #expect(detail.contains(c.detail), "detail: \(detail)")
        }
    }

    @Test func malformedJSONHasLineAndColumn() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.post("/gradient", "{\"input\": [1, 2,]}")
            #expect(response.status == .badRequest)
            let body = try JSONBody(response)
            #expect(body["line"]?.number == 1)
            #expect(body["column"]?.number == 17)
        }
    }

    @Test func notFoundAndMethodNotAllowed() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let missing = try await client.execute(uri: "/backward", method: .post)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
            let wrongMethod = try await client.execute(uri: "/gradient", method: .get)
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "POST")
            #expect(try JSONBody(wrongMethod)["status"]?.number == 405)
            let deleteHealth = try await client.execute(uri: "/health", method: .delete)
            #expect(deleteHealth.status == .methodNotAllowed)
            #expect(deleteHealth.headers[.allow] == "GET, HEAD")
            // Allow comes from the router's own table: captures and every route included.
            for (method, path, allow) in [
                (HTTPRequest.Method.delete, "/health/ready", "GET, HEAD"), (.put, "/train/jobs/0123456789abcdef", "GET, HEAD, DELETE"),
                (.delete, "/train/jobs", "GET, HEAD, POST"), (.post, "/train/jobs/x/events", "GET, HEAD"),
                (.post, "/playground/app.js", "GET, HEAD"), (.delete, "/", "GET, HEAD"),
            ] {
                let response = try await client.execute(uri: path, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers[.allow] == allow, "\(method) \(path)")
            }
            #expect(try await client.execute(uri: "/train/jobs/x/events/more", method: .get).status == .notFound)
        }
    }

    @Test func badPrettyIsABadRequest() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.execute(uri: "/health?pretty=yes", method: .get)
            #expect(response.status == .badRequest)
            #expect(try JSONBody(response)["detail"]?.string?.contains("pretty must be true or false") == true)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        let app = buildApplication(testConfiguration { $0.maximumBodySize = 1024 })
        try await app.test(.router) { client in
            let big = #"{"network": {"layers": [{"weights": ["# + Array(repeating: "0.5", count: 1000).joined(separator: ",") + "]}]}}"
            let response = try await client.post("/forward", big)
            #expect(response.status == .contentTooLarge)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(try JSONBody(response)["status"]?.number == 413)
            let small = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(small.status == .ok)
        }
    }

    @Test func fullComputeQueueIs429WithRetryAfter() async throws {
        let app = buildApplication(testConfiguration { $0.computeThreads = 1; $0.computeQueue = 0; $0.inlineWork = 0 })
        try await app.test(.live) { client in
            // A /train that would run for minutes holds the only thread until its client hangs up.
            let slow = try RawConnection(port: try #require(client.port))
            try slow.sendPost("/train", """
                {"network": {"inputs": 50, "layers": [{"units": 50}, {"units": 1}], "seed": 1},
                 "inputs": [[\(Array(repeating: "0.1", count: 50).joined(separator: ","))]], "targets": [1], "epochs": 5000000}
                """)
            var busy: TestResponse? = nil
            for _ in 0..<100 where busy == nil {
                try await Task.sleep(for: .milliseconds(100))
                let response = try await client.post("/gradient", SeedRequests.singleNeuron)
                if response.status == .tooManyRequests { busy = response }
            }
            let refused = try #require(busy)
            #expect(refused.headers[.retryAfter] == "1")
            #expect(refused.headers[.contentType] == "application/problem+json")
            #expect(try JSONBody(refused)["status"]?.number == 429)
            slow.close()
        }
    }

    /// With the pool full, a small /gradient is still served (inline, on its handler's
    /// task), while one above --inline-work waits for the pool and gets the 429.
    @Test func smallRequestsAreServedInlineWhileThePoolIsFull() async throws {
        let app = buildApplication(testConfiguration { $0.computeThreads = 1; $0.computeQueue = 0 })
        try await app.test(.live) { client in
            let slow = try RawConnection(port: try #require(client.port))
            defer { slow.close() }
            try slow.sendPost("/train", """
                {"network": {"inputs": 50, "layers": [{"units": 50}, {"units": 1}], "seed": 1},
                 "inputs": [[\(Array(repeating: "0.1", count: 50).joined(separator: ","))]], "targets": [1], "epochs": 5000000}
                """)
            // 8×20 weights, 1 sample: work 180, over the default 128, so it goes to the pool.
            let weights = (0..<8).map { _ in "[" + Array(repeating: "0.1", count: 20).joined(separator: ",") + "]" }
            let larger = #"{"network": {"layers": [{"weights": [\#(weights.joined(separator: ","))]}]}, "input": [\#(Array(repeating: "1", count: 8).joined(separator: ","))], "target": [\#(Array(repeating: "0", count: 20).joined(separator: ","))]}"#
            var busy: TestResponse? = nil
            for _ in 0..<100 where busy == nil {
                try await Task.sleep(for: .milliseconds(100))
                let response = try await client.post("/gradient", larger)
                if response.status == .tooManyRequests { busy = response }
            }
            #expect(busy != nil, "the larger /gradient waits for the busy pool")
            for _ in 0..<20 {
                let small = try await client.post("/gradient", SeedRequests.singleNeuron)
                #expect(small.status == .ok)
            }
        }
    }

    @Test func stoppedPoolAnswers503() async throws {
        let pool = ComputePool(threads: 1, queue: 0)
        try await pool.shutdown()
        await #expect(throws: Problem.self) { try await pool.run { _ in 1 } }
        do {
            _ = try await pool.run { _ in 1 }
        } catch let problem as Problem {
            #expect(problem.status == .serviceUnavailable)
        }
    }
}
