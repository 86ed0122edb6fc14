import BackpropTestSupport
import Foundation
import Testing

/// SIGTERM on the real executable: requests in flight get their whole answer, open
/// event streams end with an event saying why, new connections are refused, exit 0.
@Suite(.serialized) struct ShutdownTests {
    static let longJob = """
        {"network": {"inputs": 50, "layers": [{"units": 50}, {"units": 1}], "seed": 1},
         "inputs": [[\(Array(repeating: "0.1", count: 50).joined(separator: ","))]], "targets": [1],
         "epochs": 100000000, "learning_rate": 0.0001}
        """
    /// A synchronous training still running when SIGTERM comes 200 ms after it: about
    /// a second in the debug build on 2 quiet cores (30,000 epochs took 20 s beside the
    /// other suites, too near the 20 s that the drain may take).
    static let slowTrain = """
        {"network": {"inputs": 20, "layers": [{"units": 20}, {"units": 1}], "seed": 1},
         "inputs": [[\(Array(repeating: "0.1", count: 20).joined(separator: ","))]], "targets": [1],
         "epochs": 10000, "learning_rate": 0.0001}
        """

    @Test func sigtermDrainsRequestsEndsStreamsAndExitsCleanly() async throws {
        let server = try await ServerProcess(arguments: ["--shutdown-grace", "1"])
        let metrics = try await server.request("GET", "/metrics")
        #expect(metrics.contains("backprop_compute_queue_depth"), "metrics are bootstrapped before the pools exist")
        #expect(metrics.contains("backprop_jobs{status=\"running\"}"))
        let created = try await server.request("POST", "/train/jobs", body: Self.longJob)
        #expect(created.contains("HTTP/1.1 202"))
        let id = try #require(created.firstMatch(of: /"id":"([0-9a-f]{16})"/)?.1)

        let stream = try RawConnection(port: server.port)
        try stream.send("GET /train/jobs/\(id)/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
        let opening = await stream.read(until: "event: progress")
        #expect(opening.contains("HTTP/1.1 200"))
        #expect(opening.lowercased().contains("content-type: text/event-stream"))

        let inFlight = try RawConnection(port: server.port)
        try inFlight.sendPost("/train", Self.slowTrain)
        try await Task.sleep(for: .milliseconds(200))

        let start = Date()
        let status = await server.terminate()
        #expect(status == 0)
        #expect(Date().timeIntervalSince(start) < 20)

        let answer = await inFlight.read(until: "\"duration_ms\"")
        #expect(answer.contains("HTTP/1.1 200"), "the in-flight /train got: \(answer.prefix(300))")
        #expect(answer.contains("\"stopped\":\"completed\""))
        let ending = await stream.read(until: "event: cancelled", timeout: .seconds(5))
        #expect(ending.contains("event: cancelled"))
        #expect(ending.contains(#""reason":"shutdown""#))
        #expect((try? RawConnection(port: server.port)) == nil, "new connections are refused")
        stream.close()
        inFlight.close()
    }
}
