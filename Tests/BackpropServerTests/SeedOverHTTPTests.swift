import BackpropServer
import BackpropTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// The seed's two computations over HTTP, in the seed's exact JSON shapes, to 1e-12.
@Suite struct SeedOverHTTPTests {
    @Test func singleNeuron() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            let body = try JSONBody(response)
            #expect(body.keys == ["output", "error", "loss", "layers"])
            // Shorthand kept: numbers per sample, a vector of weight deltas.
            #expect(try abs(#require(body["output"]?.number) - 0.6899744811276125) < 1e-12)
            #expect(try abs(#require(body["error"]?.number) - -0.1899744811276125) < 1e-12)
            let layer = try #require(body["layers"]?[0])
            #expect(layer.keys == ["error_term", "weight_gradient", "weight_delta"])
            #expect(try abs(#require(layer["error_term"]?.number) - -0.04063738360460799) < 1e-12)
            let delta = try #require(layer["weight_delta"]?.numbers)
            #expect(maxAbsoluteError(delta, [-0.02031869180230399, -0.04063738360460799, -0.06095607540691198, -0.08127476720921598]) < 1e-12)
        }
    }

    @Test func hiddenLayer() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let response = try await client.post("/gradient", SeedRequests.hiddenLayer)
            #expect(response.status == .ok)
            let body = try JSONBody(response)
            #expect(try abs(#require(body["output"]?.number) - 0.48497343084992534) < 1e-12)
            #expect(try abs(#require(body["error"]?.number) - 0.11502656915007464) < 1e-12)
            let output = try #require(body["layers"]?[1])
            #expect(try abs(#require(output["error_term"]?.number) - 0.028730669543515018) < 1e-12)
            #expect(maxAbsoluteError(try #require(output["weight_delta"]?.numbers), [0.00804047394804529, 0.00555918091168283]) < 1e-12)
            let hidden = try #require(body["layers"]?[0])
            #expect(maxAbsoluteError(try #require(hidden["error_term"]?.numbers), [0.00070802218654941, -0.00204471402395086]) < 1e-12)
            let matrix = try #require(hidden["weight_delta"]?.matrix)
            #expect(matrix.count == 3 && matrix.allSatisfy { $0.count == 2 })
            let expected = [
                [1.7700554663735340e-04, -5.1117850598771553e-04],
                [3.5401109327470683e-05, -1.0223570119754312e-04],
                [-7.0802218654941366e-05, 2.0447140239508623e-04],
            ]
            #expect(maxAbsoluteError(matrix.flatMap { $0 }, expected.flatMap { $0 }) < 1e-12)
        }
    }
}
