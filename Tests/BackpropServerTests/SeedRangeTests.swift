import BackpropServer
import BackpropTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Seeds are 0 … 2^53 − 1, both accepted and picked: JavaScript's `JSON.parse` keeps
/// integers exact only up to 2^53 − 1, so a seed a web page sends back is the same seed.
@Suite struct SeedRangeTests {
    static let largest: UInt64 = 9_007_199_254_740_991

    static func forward(seed: String) -> String {
        #"{"network": {"inputs": 2, "layers": [{"units": 3}, {"units": 1}], "seed": \#(seed)}, "input": [1, -1]}"#
    }

    static func train(seed: String) -> String {
        #"{"network": {"inputs": 1, "layers": [{"units": 1}]}, "inputs": [0, 1], "targets": [0, 1], "epochs": 1, "seed": \#(seed)}"#
    }

    @Test(arguments: ["0", "9007199254740991", "9007199254740991.0"])
    func acceptedUpToTwoToThe53MinusOne(seed: String) async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            for (route, body) in [("/forward", Self.forward(seed: seed)), ("/train", Self.train(seed: seed))] {
                let response = try await client.post(route, body)
                #expect(response.status == .ok, "\(route): \(String(buffer: response.body))")
                let echoed = try #require(try JSONBody(response)["seed"]?.value as? NSNumber).uint64Value
                #expect(echoed == (seed == "0" ? 0 : Self.largest))
            }
        }
    }

    @Test(arguments: ["9007199254740992", "18446744073709551615", "1e16", "-1", "0.5"])
    func refusedAboveTwoToThe53MinusOne(seed: String) async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let cases = [
                ("/forward", Self.forward(seed: seed), "/network/seed"),
                ("/train", Self.train(seed: seed), "/seed"),
                ("/train/jobs", Self.train(seed: seed), "/seed"),
            ]
            for (route, body, pointer) in cases {
                let response = try await client.post(route, body)
                #expect(response.status == .unprocessableContent, "\(route): \(String(buffer: response.body))")
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try JSONBody(response)
                #expect(problem["title"]?.string == "Invalid value")
                #expect(problem["pointer"]?.string == pointer)
                let detail = try #require(problem["detail"]?.string)
                #expect(detail.contains("must be an integer from 0 to 9007199254740991"), "detail: \(detail)")
            }
        }
    }

    @Test func pickedSeedsAreAtMostTwoToThe53MinusOne() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            var picked = Set<UInt64>()
            for _ in 0..<50 {
                let forward = try JSONBody(try await client.post(
                    "/forward", #"{"network": {"inputs": 2, "layers": [{"units": 1}]}, "input": [1, -1]}"#))
                let train = try JSONBody(try await client.post(
                    "/train", #"{"network": {"layers": [{"weights": [1]}]}, "inputs": [0, 1], "targets": [0, 1], "epochs": 1}"#))
                for body in [forward, train] {
                    let number = try #require(body["seed"]?.value as? NSNumber)
                    // Exact in a double, as JSON.parse reads it.
                    #expect(number.uint64Value <= Self.largest)
                    #expect(UInt64(exactly: number.doubleValue) == number.uint64Value)
                    picked.insert(number.uint64Value)
                }
            }
            // Picked, not fixed: 100 draws from 2^53 seeds are all but surely distinct.
            #expect(picked.count > 90)
        }
    }
}
