import BackpropServer
import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Every answer carries a request id, and every problem body names it.
@Suite struct RequestIDTests {
    static let header = HTTPField.Name("X-Request-Id")!

    @Test func madeWhenAbsentEchoedWhenGivenAndInEveryProblem() async throws {
        let app = buildApplication(testConfiguration { $0.apiKey = "secret" })
        try await app.test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            let made = try #require(health.headers[Self.header])
            #expect(made.count == 16 && made.allSatisfy(\.isHexDigit))

            let given = "trace-42:abc/DEF"
            let echoed = try await client.execute(uri: "/health", method: .get, headers: [Self.header: given])
            #expect(echoed.headers[Self.header] == given)

            // A problem from the API key check (401), and one from a route (404).
            let unauthorized = try await client.execute(uri: "/forward", method: .post, headers: [Self.header: given])
            #expect(unauthorized.status == .unauthorized)
            #expect(try JSONBody(unauthorized)["request_id"]?.string == given)
            let missing = try await client.execute(
                uri: "/nowhere", method: .get, headers: [Self.header: given, .authorization: "Bearer secret"])
            #expect(missing.status == .notFound)
            #expect(try JSONBody(missing)["request_id"]?.string == given)
            #expect(missing.headers[Self.header] == given)

            // Ids we do not keep (too long, spaces, control characters) are replaced.
            for bad in [String(repeating: "a", count: 129), "has space", "tab\there"] {
                let replaced = try await client.execute(uri: "/health", method: .get, headers: [Self.header: bad])
                let id = try #require(replaced.headers[Self.header])
                #expect(id != bad && id.count == 16, "\(bad)")
            }
        }
    }

    @Test func aComputeProblemCarriesTheIdItsAnswerHeaderHas() async throws {
        let app = buildApplication(testConfiguration())
        try await app.test(.router) { client in
            let response = try await client.post("/gradient", #"{"network": 1}"#)
            #expect(response.status == .badRequest)
            let id = try #require(response.headers[Self.header])
            #expect(try JSONBody(response)["request_id"]?.string == id)
        }
    }
}
