import BackpropTestSupport
import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BackpropServer

/// gzip answers: negotiated on `Accept-Encoding`, with `Vary` on every answer but
/// event streams, byte for byte the plain answer once inflated, small or streamed.
@Suite struct AnswerCompressionTests {
    static func varies(_ response: TestResponse) -> Bool {
        response.headers[values: .vary].contains { $0.lowercased().contains("accept-encoding") }
    }

    @Test(arguments: [5, 5000])  // 100 × 5 numbers (about 10 KB, encoded whole); 100 × 5000 (10 MB, streamed)
    func aGzipAnswerInflatesToThePlainAnswer(units: Int) async throws {
        let body = MemoryBudgetHTTPTests.wideForward(units: units)
        try await buildApplication(testConfiguration()).test(.live) { client in
            let plain = try await client.post("/forward", body)
            #expect(plain.status == .ok)
            #expect(plain.headers[.contentEncoding] == nil)
            #expect(Self.varies(plain))
            let gzipped = try await client.post("/forward", body, headers: [.acceptEncoding: "gzip, deflate, br"])
            #expect(gzipped.status == .ok)
            #expect(gzipped.headers[.contentEncoding] == "gzip")
            #expect(Self.varies(gzipped))
            #expect(gzipped.headers[.contentType] == "application/json")
            let streamed = plain.body.readableBytes > Answer.streamThreshold
            #expect(streamed == (units == 5000))
            // Whole: its compressed length; streamed: chunked.
            #expect(gzipped.headers[.contentLength] == (streamed ? nil : "\(gzipped.body.readableBytes)"))
            #expect(gzipped.body.readableBytes < plain.body.readableBytes / 2)
            #expect(try CompressionTests.gunzip(gzipped.body) == Array(plain.body.readableBytesView))
            if streamed {
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(MemoryBudgetHTTPTests.metric(metrics, #"backprop_memory_held_bytes{kind="answers"}"#) == 0)
            }
        }
    }

    @Test func negotiation() async throws {
        let cases: [(String?, Bool)] = [
            (nil, false), ("", false), ("gzip", true), ("GZIP", true), ("x-gzip", true), ("*", true),
            ("gzip;q=0", false), ("gzip; q=0.0, deflate", false), ("*;q=0", false), ("identity", false),
            ("deflate", false), ("br;q=1, gzip;q=0.1", true), ("*, gzip;q=0", false), ("gzip;q=0, *", false),
            ("gzip;q=2", false), ("identity;q=0.5, *;q=0.2", true),
        ]
        for (header, allows) in cases {
            #expect(AcceptEncoding(header.map { [$0] } ?? []).allowsGzip == allows, "\(header ?? "absent")")
        }
        try await buildApplication(testConfiguration()).test(.live) { client in
            let body = MemoryBudgetHTTPTests.wideForward(units: 5)
            for (header, allows) in [("gzip;q=0", false), ("*", true), ("deflate", false), ("gzip;q=0.5, identity", true)] {
                let response = try await client.post("/forward", body, headers: [.acceptEncoding: header])
                #expect(response.status == .ok)
                #expect((response.headers[.contentEncoding] == "gzip") == allows, "\(header)")
                #expect(Self.varies(response))
            }
            // Small answers (under 1 KiB) and problems are sent as they are, with Vary all the same.
            let small = try await client.post("/gradient", SeedRequests.singleNeuron, headers: [.acceptEncoding: "gzip"])
            #expect(small.headers[.contentEncoding] == nil)
            #expect(try JSONBody(small)["output"]?.number == 0.6899744811276125)
            #expect(Self.varies(small))
            let problem = try await client.post("/gradient", "{", headers: [.acceptEncoding: "gzip"])
            #expect(problem.status == .badRequest)
            #expect(problem.headers[.contentEncoding] == nil)
            #expect(Self.varies(problem))
            // Other large answers are compressed too: the spec.
            let spec = try await client.execute(uri: "/openapi.yaml", method: .get, headers: [.acceptEncoding: "gzip"])
            #expect(spec.headers[.contentEncoding] == "gzip")
            let plainSpec = try await client.execute(uri: "/openapi.yaml", method: .get)
            #expect(try CompressionTests.gunzip(spec.body) == Array(plainSpec.body.readableBytesView))
        }
    }

    @Test func eventStreamsAreNeverCompressed() async throws {
        try await buildApplication(testConfiguration()).test(.live) { client in
            let headers: HTTPFields = [.accept: "text/event-stream", .acceptEncoding: "gzip"]
            let stream = try await client.post("/train", JobTests.xor, headers: headers)
            #expect(stream.status == .ok)
            #expect(stream.headers[.contentType] == "text/event-stream")
            #expect(stream.headers[.contentEncoding] == nil)
            #expect(!Self.varies(stream))
            let text = String(buffer: stream.body)
            #expect(text.hasPrefix("id: 1\nevent: progress\n"))
            #expect(text.contains("event: done"))
            let location = try #require(stream.headers[.location])
            let events = try await client.execute(uri: location + "/events", method: .get, headers: headers)
            #expect(events.headers[.contentEncoding] == nil)
            #expect(String(buffer: events.body).contains("event: done"))
            // The job itself (a JSON answer of a few KB) is compressed.
            let job = try await client.execute(uri: location, method: .get, headers: [.acceptEncoding: "gzip"])
            #expect(job.headers[.contentEncoding] == "gzip")
            #expect(Self.varies(job))
        }
    }
}
