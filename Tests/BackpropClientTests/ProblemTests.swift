import BackpropClient
import Foundation
import Testing

/// Problem answers read as typed ``BackpropProblem``s.
@Suite struct ProblemTests {
    @Test func unprocessableRequestIsATypedProblem() async throws {
        try await withLiveClient { api in
            let found = await problem {
                try await api.forward(.init(
                    network: .init(layers: [.given(weights: [[1, 2], [3, 4]]), .given(weights: [[1], [2], [3]])]),
                    input: .sample([1, 2])
                ))
            }
            let shapeMismatch = try #require(found)
            #expect(shapeMismatch.status == 422)
            #expect(shapeMismatch.title == "Shape mismatch")
            #expect(shapeMismatch.detail == "layers[1].weights has 3 rows, but layers[0] has 2 units")
            #expect(shapeMismatch.pointer == "/network/layers/1/weights")
            #expect(shapeMismatch.type == "about:blank")
            let requestID = try #require(shapeMismatch.requestID)
            #expect(requestID.count == 16 && requestID.allSatisfy(\.isHexDigit))
        }
    }

    @Test func nonFiniteStepNamesTheLayer() async throws {
        try await withLiveClient { api in
            let found = await problem {
                try await api.gradient(.init(
                    network: .init(layers: [.given(weights: [1], bias: 0)]), input: .sample([10]), target: 0,
                    learningRate: 1.7e308, loss: .crossEntropy
                ))
            }
            let overflow = try #require(found)
            #expect(overflow.status == 422)
            #expect(overflow.title == "Result is not finite")
            #expect(overflow.pointer == "/network/layers/0")
        }
    }

    @Test func unknownJobIsA404Problem() async throws {
        try await withLiveClient { api in
            let notFound = try #require(await problem { try await api.job("0123456789abcdef") })
            #expect(notFound.status == 404)
            #expect(notFound.pointer == nil)
            let notCancelled = try #require(await problem { try await api.cancelJob("0123456789abcdef") })
            #expect(notCancelled.status == 404)
            let streamed = try #require(await problem {
                for try await _ in api.events(of: "0123456789abcdef") {}
            })
            #expect(streamed.status == 404)
        }
    }

    @Test func apiKeyIsSentAndAWrongOneIsA401Problem() async throws {
        let request = BackpropClient.ForwardRequest(network: Examples.hiddenLayerNetwork, input: .sample([0.5, 0.1, -0.2]))
        try await withLiveClient(apiKey: "s3cret", { $0.apiKey = "s3cret" }) { api in
            let answer = try await api.forward(request)
            #expect(answer.output.tensor == .scalar(0.4849734308499254))
        }
        try await withLiveClient(apiKey: "wrong", { $0.apiKey = "s3cret" }) { api in
            let unauthorized = try #require(await problem { try await api.forward(request) })
            #expect(unauthorized.status == 401)
            // The probes need no key.
            #expect(try await api.health().status == .ok)
        }
    }

    @Test func aBaseURLWithATrailingSlashWorks() async throws {
        try await withLiveClient(path: "/") { api in
            #expect(try await api.health().status == .ok)
            let answer = try await api.forward(.init(network: Examples.hiddenLayerNetwork, input: .sample([0.5, 0.1, -0.2])))
            #expect(answer.output.tensor == .scalar(0.4849734308499254))
        }
    }

    @Test func operationsRoutes() async throws {
        try await withLiveClient { api in
            let health = try await api.health()
            #expect(health.status == .ok)
            #expect(!health.version.isEmpty)
            #expect(try await api.isLive())
            #expect(try await api.notReadyReason() == nil)
            #expect(try await api.metrics().contains("hb_requests"))
            #expect(try await api.openAPIDocument().hasPrefix("openapi: 3.1.0"))
        }
    }
}
