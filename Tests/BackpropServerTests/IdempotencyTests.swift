import BackpropServer
import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// `Idempotency-Key` on POST /train/jobs (IETF httpapi draft), with the memory store;
/// `PostgresJobStoreTests` runs the same check against PostgreSQL.
@Suite struct IdempotencyTests {
    static let key = HTTPField.Name("Idempotency-Key")!

    /// The same key and body give the same job; the same key with another body is a 422;
    /// a malformed key is a 400.
    static func check(_ client: some TestClientProtocol) async throws {
        let first = try await client.post("/train/jobs", JobTests.xor, headers: [key: "order-42"])
        #expect(first.status == .accepted)
        let id = try #require(try JSONBody(first)["id"]?.string)
        let again = try await client.post("/train/jobs", JobTests.xor, headers: [key: "order-42"])
        #expect(again.status == .accepted)
        #expect(try JSONBody(again)["id"]?.string == id)
        #expect(again.headers[.location] == "/train/jobs/\(id)")
        let other = try await client.post(
            "/train/jobs", JobTests.xor.replacingOccurrences(of: "\"epochs\": 300", with: "\"epochs\": 301"),
            headers: [key: "order-42"])
        #expect(other.status == .unprocessableContent)
        #expect(other.headers[.contentType] == "application/problem+json")
        #expect(try JSONBody(other)["title"]?.string == "Idempotency key reused")
        let fresh = try await client.post("/train/jobs", JobTests.xor, headers: [key: "order-43"])
        #expect(try JSONBody(fresh)["id"]?.string != id)
        let bad = try await client.post("/train/jobs", JobTests.xor, headers: [key: String(repeating: "k", count: 300)])
        #expect(bad.status == .badRequest)
        let list = try JSONBody(try await client.execute(uri: "/train/jobs", method: .get))
        #expect(list["jobs"]?.count == 2)
    }

    @Test func memoryStore() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            try await Self.check(client)
        }
    }
}

/// With a database that cannot be reached: not ready, job routes 503 with
/// `Retry-After` (never a 500), while /forward and /gradient keep working.
@Suite struct UnreachableDatabaseTests {
    @Test func jobRoutesAnswer503AndComputeKeepsWorking() async throws {
        // A port nothing listens on: bound, then closed.
        let port = try ServerProcess.freePort()
        let url = try DatabaseURL("postgres://backprop:secret-password@127.0.0.1:\(port)/backprop?sslmode=disable")
        try await buildApplication(testConfiguration { $0.databaseURL = url }).test(.router) { client in
            let ready = try await client.execute(uri: "/health/ready", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.headers[.retryAfter] != nil)
            let live = try await client.execute(uri: "/health/live", method: .get)
            #expect(live.status == .ok)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            let gradient = try await client.post("/gradient", SeedRequests.hiddenLayer)
            #expect(gradient.status == .ok)
            for response in [
                try await client.post("/train/jobs", JobTests.xor),
                try await client.execute(uri: "/train/jobs", method: .get),
                try await client.execute(uri: "/train/jobs/0123456789abcdef", method: .get),
                try await client.execute(uri: "/train/jobs/0123456789abcdef", method: .delete),
            ] {
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(!String(buffer: response.body).contains("secret-password"))
            }
            let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
            #expect(!metrics.contains("secret-password"))
            #expect(metrics.contains("backprop_job_store_reachable 0"))
        }
    }

    @Test func databaseURLsAreCheckedAndNeverShowThePassword() throws {
        let url = try DatabaseURL("postgresql://user:p%40ss@db.example:6543/jobs?sslmode=require")
        #expect(url.host == "db.example" && url.port == 6543 && url.username == "user" && url.database == "jobs")
        #expect(url.password == "p@ss")
        #expect(url.sslMode == .require)
        #expect("\(url)" == "postgres://user:***@db.example:6543/jobs?sslmode=require")
        #expect(String(reflecting: url) == "\(url)")
        for bad in ["mysql://a@b/c", "postgres://", "postgres://user@host/db?sslmode=sometimes", "postgres://host/db"] {
            #expect(throws: DatabaseURLError.self) { try DatabaseURL(bad) }
        }
    }
}
