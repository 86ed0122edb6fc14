import BackpropServer
import BackpropTestSupport
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct APIKeyTests {
    @Test func keyIsRequiredEverywhereButHealth() async throws {
        let app = buildApplication(testConfiguration { $0.apiKey = "s3cret" })
        try await app.test(.router) { client in
            let health = try await client.execute(uri: "/health", method: .get)
            #expect(health.status == .ok)
            let missing = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            #expect(missing.headers[.contentType] == "application/problem+json")
            #expect(try JSONBody(missing)["status"]?.number == 401)
            for wrong in ["Bearer s3cre", "Bearer s3cret2", "Bearer S3cret", "Basic s3cret", "s3cret"] {
                let response = try await client.post("/gradient", SeedRequests.singleNeuron, headers: [.authorization: wrong])
                #expect(response.status == .unauthorized, "\(wrong)")
            }
            let good = try await client.post("/gradient", SeedRequests.singleNeuron, headers: [.authorization: "Bearer s3cret"])
            #expect(good.status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .unauthorized)
            let jobs = try await client.execute(uri: "/train/jobs", method: .get, headers: [.authorization: "Bearer s3cret"])
            #expect(jobs.status == .ok)
        }
    }

    @Test func withoutAKeyNothingIsRequired() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let open = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(open.status == .ok)
        }
    }
}
