import BackpropTestSupport
import CompressNIO
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BackpropServer

/// gzip and deflate request bodies (limits, corrupt streams, unknown codings) and
/// gzip answers (negotiation, Vary, small and streamed answers, never event streams).
@Suite struct CompressionTests {
    /// `text` compressed whole with zlib in `algorithm`'s format.
    static func compressed(_ text: String, _ algorithm: ZlibAlgorithm) throws -> ByteBuffer {
        let compressor = try ZlibCompressor(algorithm: algorithm)
        var input = ByteBuffer(string: text)
        var output = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: input))
        try compressor.deflate(from: &input, to: &output, flush: .finish)
        return output
    }

    /// A gzip body inflated (at most 256 MB), independently of the server's code.
    static func gunzip(_ buffer: ByteBuffer) throws -> [UInt8] {
        var input = buffer
        return Array(try input.decompress(with: .gzip(), maxSize: 256 << 20).readableBytesView)
    }

    static let gzipHeaders: HTTPFields = [.acceptEncoding: "gzip"]

    @Test(arguments: [ZlibAlgorithm.gzip, .zlib, .deflate])
    func aCompressedBodyGivesThePlainAnswer(_ algorithm: ZlibAlgorithm) async throws {
        try await buildApplication(testConfiguration()).test(.live) { client in
            let plain = try await client.post("/gradient", SeedRequests.singleNeuron)
            #expect(plain.status == .ok)
            #expect(try JSONBody(plain)["output"]?.number == 0.6899744811276125)
            let coding = algorithm == .gzip ? "gzip" : "deflate"  // zlib, or raw deflate, both as "deflate"
            let response = try await client.execute(
                uri: "/gradient", method: .post, headers: [.contentEncoding: coding],
                body: try Self.compressed(SeedRequests.singleNeuron, algorithm))
            #expect(response.status == .ok)
            #expect(Array(response.body.readableBytesView) == Array(plain.body.readableBytesView))
            #expect(try JSONBody(response)["output"]?.number == 0.6899744811276125)
        }
    }

    /// A chunked body in pieces of 1 to 7 bytes: the first byte alone (before the
    /// decompressor can tell zlib from raw deflate), the rest in many small inflations.
    @Test(arguments: [ZlibAlgorithm.gzip, .zlib])
    func aChunkedCompressedBodyInTinyPieces(_ algorithm: ZlibAlgorithm) async throws {
        let bytes = Array(try Self.compressed(SeedRequests.singleNeuron, algorithm).readableBytesView)
        try await buildApplication(testConfiguration()).test(.live) { client in
            let connection = try RawConnection(port: try #require(client.port))
            defer { connection.close() }
            try connection.send(
                "POST /gradient HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n"
                    + "Content-Encoding: \(algorithm == .gzip ? "gzip" : "deflate")\r\n\r\n")
            var start = 0
            var size = 1
            while start < bytes.count {
                let piece = Array(bytes[start..<min(start + size, bytes.count)])
                try connection.send(bytes: Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10])
                start += piece.count
                size = size % 7 + 1
            }
            try connection.send("0\r\n\r\n")
            let answer = String(decoding: await connection.readToEnd(), as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(300))")
            #expect(answer.contains(#""output":0.6899744811276125"#))
        }
    }

    @Test func identityIsNoCodingAndStackedOrUnknownCodingsAre415() async throws {
        try await buildApplication(testConfiguration()).test(.live) { client in
            let identity = try await client.post("/gradient", SeedRequests.singleNeuron, headers: [.contentEncoding: "identity"])
            #expect(identity.status == .ok)
            for coding in ["br", "compress", "gzip, br", "gzip, gzip", "zstd"] {
                let response = try await client.post("/forward", SeedRequests.singleNeuron, headers: [.contentEncoding: coding])
                #expect(response.status == .unsupportedMediaType, "\(coding)")
                #expect(response.headers[.acceptEncoding] == "gzip, deflate")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(try JSONBody(response)["title"]?.string == "Unsupported content coding")
            }
            let jobs = try await client.post("/train/jobs", JobTests.xor, headers: [.contentEncoding: "br"])
            #expect(jobs.status == .unsupportedMediaType)
            // A gzipped job body is accepted there too.
            let gzipped = try await client.execute(
                uri: "/train/jobs", method: .post, headers: [.contentEncoding: "gzip"],
                body: try Self.compressed(JobTests.xor, .gzip))
            #expect(gzipped.status == .accepted)
        }
    }

    @Test func aCorruptOrTruncatedStreamIs400() async throws {
        try await buildApplication(testConfiguration()).test(.live) { client in
            let whole = try Self.compressed(SeedRequests.singleNeuron, .gzip)
            var corrupt = whole
            corrupt.setBytes(Array(repeating: 0xFF, count: 16), at: 12)
            let truncated = whole.getSlice(at: 0, length: whole.readableBytes - 12)!
            var trailing = whole
            trailing.writeString("junk")
            let bodies: [(String, ByteBuffer, String)] = [
                ("gzip", corrupt, "not valid gzip"), ("gzip", truncated, "ends early"),
                ("gzip", ByteBuffer(string: SeedRequests.singleNeuron), "not valid gzip"),
                ("gzip", trailing, "not valid gzip"), ("deflate", ByteBuffer(string: "xx"), "not valid deflate"),
                ("gzip", ByteBuffer(), "the body is empty"),
            ]
            for (coding, body, detail) in bodies {
                let response = try await client.execute(
                    uri: "/gradient", method: .post, headers: [.contentEncoding: coding], body: body)
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try JSONBody(response)
                #expect(problem["title"]?.string == "Unreadable body")
                #expect(problem["detail"]?.string?.contains(detail) == true, "\(problem["detail"]?.string ?? "")")
            }
        }
    }

    /// The bound applies to the inflated body: one just over it is a 413, one within it is read.
    @Test func theBodyLimitAppliesToTheInflatedSize() async throws {
        let body = #"{"network": {"layers": [{"weights": [0.5, -0.5, 0.3, 0.1]}]}, "input": [1, 2, 3, 4], "target": 0.5}"#
        let padded = body.replacingOccurrences(of: "{\"network\"", with: "{" + String(repeating: " ", count: 4000) + "\"network\"")
        let app = buildApplication(testConfiguration { $0.maximumBodySize = 4096 })
        try await app.test(.live) { client in
            let within = try await client.execute(
                uri: "/gradient", method: .post, headers: [.contentEncoding: "gzip"], body: try Self.compressed(body, .gzip))
            #expect(within.status == .ok)
            let over = try Self.compressed(padded + String(repeating: " ", count: 200), .gzip)
            #expect(over.readableBytes < 200)
            let refused = try await client.execute(uri: "/gradient", method: .post, headers: [.contentEncoding: "gzip"], body: over)
            #expect(refused.status == .contentTooLarge)
            #expect(try JSONBody(refused)["title"]?.string == "Body too large")
        }
    }

    /// A zip bomb: 1 GiB of zeros as 1,042,068 bytes of gzip, kept here zlib-compressed
    /// twice (840 characters). Made with Python's zlib:
    /// `c = zlib.compressobj(9, zlib.DEFLATED, 31, 9, zlib.Z_RLE)`, 1,024 × `c.compress(bytes(1 << 20))`,
    /// `c.flush()`; then `base64(zlib.compress(zlib.compress(bomb, 9), 9))`.
    static func bomb() throws -> [UInt8] {
        let fixture = [
            "eNqruPX27kK+5nd1xx/asx8xZNZaJfCYqYxRQijrgujcWQoqm6deVlUMNd7d+bLYRz8heC+z1XXuCDWB0JQ3e+4cPjLbpp/x78X7",
            "e/bv/3/d/r/gH82/7/97TNr/1+f/t/31P+fb/3/JzwABCkWX689mSjD/CXzvXf/XHSZaljwx/bhGgvSqbhmokMDe9NtTjnMzvn48",
            "7yQjVOyi9f99dzeyVrxff9kXZmDHvXS/yRtYV3xfuv8UXJ10tw13dEMmhnETG74Wnn8CFWp4Mbf+/rsbTHu+X3+5jB0q6PLeeLnn",
            "DaYrvy/FP4Wr63Wd16p7YAvvVVc+uK2bc0899jjwa0d6EVTI4cu5/fnlOYz3fr8uucwMFVz0feZllRzGV7Uv1yPUHVM6f0gs4Vbb",
            "KyWErTfNnhaqJNTeMbaEBUnV8/vbrbcxvP9buusl3GO/z2QKbWP4uu9LOEIdMOgSuQ1ynUsnImzNmf3JQmiD3buZCP9/fn9bNrrh",
            "+z+ru1/gHqt9ZsIZ3VAV/2s1Qt3GE5s3sM7YtnDXCbit1dt8K2U4I+S/+yD8//P72z7dA9X1c/Oq4B6zK57VouuwV/9vKEJdxJPI",
            "G0w+twNiEcFue3uZTR/Lmv5qNYT///wuOy72YO9+P3NbuMfmW/oeEltwb/o/Lbi6fJ1POjmMy3JX6CGCc15usJw707XjtpPh/i//",
            "V7s7mfvDvfjls+XgHjs/Ry2ROwCY7KbC1ZmLVYptY7hsFiKOCM7z2zT7lUeT3WiyG012o8luNNmNJrvRZAe09d/e3FcbWDWu/43/",
            "965C8cH/i/Z/vtr//zn/37e3//hD2PbqAQBtkYls"
        ].joined()
        var twice = ByteBuffer(bytes: try #require(Data(base64Encoded: fixture)))
        var once = try twice.decompress(with: .zlib(), maxSize: 1 << 20)
        return Array(try once.decompress(with: .zlib(), maxSize: 2 << 20).readableBytesView)
    }

    /// The peak resident memory of a process (VmHWM), in bytes.
    static func peakResidentBytes(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])) * 1024
    }

    /// A zip bomb (1 GB of zeros in about 1 MB) against the real binary with its default
    /// 16 MiB limit: a 413 within seconds, the server's peak memory far below the bomb's
    /// size (it stops inflating at the limit), and the server still answers after it.
    @Test func aZipBombIsA413FastWithBoundedMemory() async throws {
        let bomb = try Self.bomb()
        #expect(bomb.count == 1_042_068)
        // gzip's trailer: the size of the inflated data, mod 2^32 (RFC 1952 §2.3.1).
        #expect(bomb.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) } == 1 << 30)
        let server = try await ServerProcess()
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        let start = ContinuousClock.now
        try connection.send(
            "POST /forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Encoding: gzip\r\nContent-Length: \(bomb.count)\r\n\r\n")
        // The server answers once it has inflated 16 MiB, then reads (and drops) the rest.
        try connection.send(bytes: bomb)
        let answer = await connection.read(until: "\"detail\"", timeout: .seconds(30))
        let elapsed = ContinuousClock.now - start
        #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
        #expect(answer.contains("Body too large"))
        #expect(elapsed < .seconds(10), "\(elapsed)")
        let peak = try Self.peakResidentBytes(server.process.processIdentifier)
        #expect(peak < 256 << 20, "peak RSS \(peak >> 20) MiB")
        let after = try await server.request("POST", "/gradient", body: SeedRequests.singleNeuron)
        #expect(after.hasPrefix("HTTP/1.1 200"))
        #expect(await server.terminate() == 0)
    }
}
