import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BackpropServer

/// A database that answers but cannot store (SQLSTATE class 53; here a trigger raises
/// `disk_full`, 53100, as PostgreSQL does when a table cannot grow): the write is a
/// 503 whose detail says so, with `Retry-After`; reads, readiness and what was
/// accepted before go on, and writes succeed again once it can store.
@Suite(
    .enabled(
        if: TestDatabase.isAvailable || TestDatabase.isRequired,
        "BACKPROP_TEST_DATABASE_URL is not set: the full-store suite is skipped"),
    .serialized)
struct StoreFullTests {
    static let job = #"{"network": {"inputs": 2, "layers": [{"units": 3}, {"units": 1}], "seed": 1}, "inputs": [[0, 1]], "targets": [1], "epochs": 20}"#

    /// Makes every insert into `table` fail with SQLSTATE 53100, as a full disk does.
    static func fill(_ table: String, on url: DatabaseURL) async throws {
        try await TestDatabase.execute(
            """
            CREATE OR REPLACE FUNCTION refuse_as_full() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$
            """, on: url)
        try await TestDatabase.execute(
            "CREATE TRIGGER refuse_as_full BEFORE INSERT ON \(table) FOR EACH ROW EXECUTE FUNCTION refuse_as_full()", on: url)
    }

    static func free(_ table: String, on url: DatabaseURL) async throws {
        try await TestDatabase.execute("DROP TRIGGER refuse_as_full ON \(table)", on: url)
    }

    @Test func aFullJobStoreIsA503ThatSaysSoAndReadsGoOn() async throws {
        try await TestDatabase.with { url in
            try await buildApplication(PostgresJobStoreTests.configuration(url, replica: "a")).test(.router) { client in
                let before = try await PostgresJobStoreTests.submit(client, Self.job)
                #expect(before.status == .accepted)
                let id = try #require(try JSONBody(before)["id"]?.string)
                try await Self.fill("jobs", on: url)

                let refused = try await client.post("/train/jobs", Self.job)
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.headers[.retryAfter] == "2")
                #expect(refused.headers[.contentType] == "application/problem+json")
                let problem = try JSONBody(refused)
                #expect(problem["title"]?.string == "Job store unavailable")
                #expect(problem["detail"]?.string?.contains("SQLSTATE 53100") == true)
                #expect(problem["detail"]?.string?.contains("cannot be reached") == false)

                // The database answers: readiness, reads and the job accepted before go on.
                #expect(try await client.execute(uri: "/health/ready", method: .get).status == .ok)
                let done = try await PostgresJobStoreTests.waitFor(client, id, ["succeeded"])
                #expect(done["status"]?.string == "succeeded")
                #expect(try await client.execute(uri: "/train/jobs", method: .get).status == .ok)

                try await Self.free("jobs", on: url)
                #expect(try await client.post("/train/jobs", Self.job).status == .accepted)
            }
        }
    }

    @Test func aFullNetworkStoreIsA503ThatSaysSo() async throws {
        try await TestDatabase.with { url in
            try await buildApplication(PostgresJobStoreTests.configuration(url, replica: "a")).test(.router) { client in
                try await PostgresJobStoreTests.waitUntilReady(client)
                #expect(try await NetworkStoreHTTPTests.put(client, "kept", NetworkStoreHTTPTests.generated).status == .created)
                try await Self.fill("networks", on: url)

                let refused = try await NetworkStoreHTTPTests.put(client, "xor", NetworkStoreHTTPTests.generated)
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.headers[.retryAfter] == "2")
                let problem = try JSONBody(refused)
                #expect(problem["title"]?.string == "Network store unavailable")
                #expect(problem["detail"]?.string?.contains("SQLSTATE 53100") == true)
                #expect(try await client.execute(uri: "/networks/kept", method: .get).status == .ok)

                try await Self.free("networks", on: url)
                #expect(try await NetworkStoreHTTPTests.put(client, "xor", NetworkStoreHTTPTests.generated).status == .created)
            }
        }
    }
}
