import BackpropServer
import BackpropTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct EndpointTests {
    @Test func forwardTracesABatch() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.post("/forward", """
                {"network": {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]}, {"weights": [0.1, -0.3]}]},
                 "input": [[0.5, 0.1, -0.2], [0, 0, 0]], "trace": true}
                """)
            #expect(response.status == .ok)
            let body = try JSONBody(response)
            let output = try #require(body["output"]?.numbers)
            #expect(output.count == 2)
            #expect(abs(output[0] - 0.48497343084992534) < 1e-12)
            // Zero input: h = 0 everywhere, hidden outputs ½, output σ(0.1·½ − 0.3·½).
            #expect(abs(output[1] - 1 / (1 + exp(0.1))) < 1e-15)
            let hidden = try #require(body["layers"]?[0])
            let expected: [[Double]] = [[0.5 * 0.5 + 0.1 * 0.1 + -0.2 * 0.1, 0.5 * -0.6 + 0.1 * -0.2 + -0.2 * 0.7], [0, 0]]
            let weighted = try #require(hidden["weighted_input"]?.matrix)
            #expect(weighted.count == 2)
            #expect(maxAbsoluteError(weighted.flatMap { $0 }, expected.flatMap { $0 }) <= 1e-15)
            #expect(try #require(hidden["output"]?.matrix)[1] == [0.5, 0.5])
            #expect(try #require(body["layers"]?[1]?["output"]?.numbers) == output)
            #expect(body["seed"] == nil && body["network"] == nil)
        }
    }

    @Test func generatedNetworksReportTheirSeedAndWeights() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let request = """
                {"network": {"inputs": 2, "layers": [{"units": 3, "activation": "relu"}, {"units": 1}], "seed": 7},
                 "input": [1, -1]}
                """
            let first = try JSONBody(try await client.post("/forward", request))
            let second = try JSONBody(try await client.post("/forward", request))
            #expect(first["seed"]?.number == 7)
            #expect(first["output"]?.number == second["output"]?.number)
            let layers = try #require(first["network"]?["layers"])
            #expect(layers[0]?["weights"]?.matrix?.count == 2)
            #expect(layers[0]?["biases"]?.numbers == [0, 0, 0])
            #expect(layers[1]?["weights"]?.numbers?.count == 3)  // one unit: the vector shorthand
            #expect(layers[1]?["biases"]?.number == 0)
            #expect(layers[0]?["activation"]?.string == "relu")
            // Without a seed the server picks one and says which: sending it back reproduces the run.
            let unseeded = try JSONBody(try await client.post("/forward", """
                {"network": {"inputs": 2, "layers": [{"units": 3}, {"units": 1}]}, "input": [1, -1]}
                """))
            let seed = try #require(unseeded["seed"]?.value as? NSNumber).uint64Value
            let replay = try JSONBody(try await client.post("/forward", """
                {"network": {"inputs": 2, "layers": [{"units": 3}, {"units": 1}], "seed": \(seed)}, "input": [1, -1]}
                """))
            #expect(replay["output"]?.number == unseeded["output"]?.number)
        }
    }

    @Test func trainLearnsXOR() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.post("/train", """
                {"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7},
                 "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
                 "epochs": 3000, "learning_rate": 2, "seed": 7, "optimizer": {"name": "sgd", "momentum": 0.9}}
                """)
            #expect(response.status == .ok)
            let body = try JSONBody(response)
            #expect(try #require(body["loss"]?.number) < 0.01)
            #expect(body["epochs_run"]?.number == 3000)
            #expect(body["stopped"]?.string == "completed")
            #expect(body["seed"]?.number == 7)
            #expect(body["history"]?["epoch"]?.count == 1000)
            #expect(body["history"]?["epoch"]?.numbers?.last == 3000)
            #expect(body["history"]?["loss"]?.count == 1000)
            #expect(try #require(body["duration_ms"]?.number) >= 0)
            let network = try #require(body["network"]?["layers"])
            #expect(network[1]?["weights"]?.numbers?.count == 4)
            #expect(network[1]?["activation"]?.string == "sigmoid")
        }
    }

    @Test func trainWithValidationAndEarlyStopping() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.post("/train", """
                {"network": {"layers": [{"weights": [0], "activation": "linear"}]},
                 "inputs": [1], "targets": [1], "epochs": 100, "learning_rate": 0.1, "shuffle": false,
                 "validation": {"inputs": [1], "targets": [-1]},
                 "early_stopping": {"patience": 5}}
                """)
            #expect(response.status == .ok)
            let body = try JSONBody(response)
            #expect(body["stopped"]?.string == "early_stopping")
            #expect(body["epochs_run"]?.number == 5)
            #expect(body["validation_loss"]?.number == 0.5)
            #expect(body["network"]?["layers"]?[0]?["weights"]?.numbers == [0])
            #expect(body["history"]?["validation_loss"]?.count == 5)
        }
    }

    @Test func operations() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            #expect(try JSONBody(health)["status"]?.string == "ok")
            #expect(try JSONBody(health)["version"]?.string == "1.0.0")
            _ = try await client.post("/gradient", SeedRequests.singleNeuron)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            let text = String(buffer: metrics.body)
            #expect(text.contains("hb_requests"))
            #expect(text.contains("/gradient"))
            #expect(text.contains("backprop_compute_queue_depth"))
            let spec = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(spec.status == .ok)
            #expect(spec.headers[.contentType] == "application/yaml")
            #expect(String(buffer: spec.body).hasPrefix("openapi: 3.1"))
            let pretty = try await client.execute(uri: "/health?pretty=true", method: .get)
            #expect(String(buffer: pretty.body).contains("\n  \"status\": \"ok\""))
        }
    }

    @Test func corsAllowsAnyOriginByDefault() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://example.com"])
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            let preflight = try await client.execute(
                uri: "/gradient", method: .options,
                headers: [.origin: "https://example.com", .accessControlRequestMethod: "POST"])
            #expect(preflight.status == .noContent || preflight.status == .ok)
            #expect(preflight.headers[.accessControlAllowMethods]?.contains("POST") == true)
        }
    }
}

@Suite struct PlaygroundServingTests {
    @Test func rootServesThePlaygroundPage() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(String(buffer: page.body).contains("<html"))
            let missing = try await client.execute(uri: "/playground/none.js", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
        }
    }
}
