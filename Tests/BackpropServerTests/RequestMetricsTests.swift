import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BackpropServer

/// `RequestMetricsMiddleware` records what Hummingbird's `MetricsMiddleware` did, under
/// the same names: a whole answer when it is returned, a streamed one once written.
@Suite struct RequestMetricsTests {
    /// The lines of the process's /metrics text that name `route` (each test its own).
    static func lines(route: String) -> [String] {
        var bytes: [UInt8] = []
        metricsRegistry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
            .filter { $0.contains("http_route=\"\(route)\"") }
    }

    /// The value of the one line that starts with `name` and contains every one of `parts`.
    static func value(_ lines: [String], _ name: String, _ parts: [String]) -> Double? {
        let matching = lines.filter { line in line.hasPrefix(name + "{") && parts.allSatisfy(line.contains) }
        guard matching.count == 1, let text = matching[0].split(separator: " ").last else { return nil }
        return Double(text)
    }

    @Test func wholeAndStreamedAnswersAreCountedAndTimed() async throws {
        _ = metricsRegistry  // bootstraps swift-metrics, as buildApplication does, before a metric is made
        let tag = UUID().uuidString.prefix(8)
        let whole = "/metrics-test-\(tag)/whole", streamed = "/metrics-test-\(tag)/streamed"
        let failing = "/metrics-test-\(tag)/failing"
        let router = Router()
        router.add(middleware: RequestMetricsMiddleware())
        router.get(RouterPath(whole)) { _, _ in
            Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "whole")))
        }
        router.get(RouterPath(streamed)) { _, _ in
            // No length: recorded once the body is written, which takes 200 ms here.
            Response(
                status: .ok,
                body: ResponseBody { writer in
                    try await Task.sleep(for: .milliseconds(200))
                    try await writer.write(ByteBuffer(string: "streamed"))
                    try await writer.finish(nil)
                })
        }
        router.get(RouterPath(failing)) { _, _ -> Response in throw HTTPError(.conflict) }
        try await Application(router: router).test(.router) { client in
            for _ in 0..<3 {
                let response = try await client.execute(uri: whole, method: .get)
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "whole")
            }
            let response = try await client.execute(uri: streamed, method: .get)
            #expect(String(buffer: response.body) == "streamed")
            let failed = try await client.execute(uri: failing, method: .get)
            #expect(failed.status == .conflict)
        }
        let ok = ["http_request_method=\"GET\"", "http_response_status_code=\"200\""]
        let wholeLines = Self.lines(route: whole), streamedLines = Self.lines(route: streamed)
        #expect(Self.value(wholeLines, "hb_requests", ok) == 3)
        #expect(Self.value(wholeLines, "http_server_request_duration_count", ok) == 3)
        #expect(try #require(Self.value(wholeLines, "http_server_request_duration_sum", ok)) < 0.2)
        #expect(Self.value(streamedLines, "hb_requests", ok) == 1)
        // The sum holds the 200 ms of writing: the streamed answer was timed once written.
        #expect(try #require(Self.value(streamedLines, "http_server_request_duration_sum", ok)) >= 0.2)
        let failingLines = Self.lines(route: failing)
        #expect(Self.value(failingLines, "hb_requests", ["http_response_status_code=\"409\""]) == 1)
        #expect(Self.value(failingLines, "hb_request_errors", ["error_type=\"409\""]) == 1)
    }
}
