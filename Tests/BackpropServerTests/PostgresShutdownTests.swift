import BackpropServer
import BackpropTestSupport
import Foundation
import Testing

/// SIGTERM on the real executable with the PostgreSQL store: open event streams end
/// with a `retry:` hint (no event), the running job is handed back to the queue (not
/// cancelled), and the process exits 0.
@Suite(
    .enabled(
        if: TestDatabase.isAvailable || TestDatabase.isRequired,
        "BACKPROP_TEST_DATABASE_URL is not set: the PostgreSQL shutdown suite is skipped"))
struct PostgresShutdownTests {
    @Test func sigtermEndsStreamsWithRetryAndHandsTheJobBack() async throws {
        try await TestDatabase.with { url in
            let text = "postgres://\(url.username):\(url.password ?? "")@\(url.host):\(url.port)/\(url.database)?sslmode=disable"
            let server = try await ServerProcess(arguments: [
                "--database-url", text, "--shutdown-grace", "0", "--checkpoint-seconds", "1", "--replica-id", "shutdown-test",
            ])
            var ready = ""
            for _ in 0..<100 where !ready.contains("HTTP/1.1 200") {
                ready = try await server.request("GET", "/health/ready")
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ready.contains("HTTP/1.1 200"))
            let created = try await server.request("POST", "/train/jobs", body: ShutdownTests.longJob)
            #expect(created.contains("HTTP/1.1 202"))
            let id = try #require(created.firstMatch(of: /"id":"([0-9a-f]{16})"/)?.1)

            let stream = try RawConnection(port: server.port)
            try stream.send("GET /train/jobs/\(id)/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            let opening = await stream.read(until: "event: progress")
            #expect(opening.contains("HTTP/1.1 200"))

            #expect(await server.terminate() == 0)
            let ending = await stream.read(until: "retry: 1000", timeout: .seconds(10))
            #expect(ending.contains("retry: 1000"))
            #expect(!ending.contains("event: cancelled"))
            let rows = try await TestDatabase.rows(
                "SELECT state, cancel_requested::text, lease_owner FROM jobs WHERE id = '\(id)'", on: url)
            #expect(rows.first == ["queued", "false", nil], "handed back to the queue for another replica")
        }
    }
}
