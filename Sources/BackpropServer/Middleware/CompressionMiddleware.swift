import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Answers in gzip when the client's `Accept-Encoding` allows it (`AcceptEncoding`)
/// and the body is over `minimumSize` bytes: a body of known length up to
/// `wholeLimit` is compressed whole (and sent with its compressed length, or as it was
/// if gzip would not make it smaller); a streamed one (a large answer) through
/// `GzipBodyWriter`, piece by piece, with the encoder's memory charged to the budget
/// while it writes.
///
/// Event streams are never compressed: each event must reach the client as it
/// happens, and a compressor would hold it back. Every other answer carries
/// `Vary: Accept-Encoding`, compressed or not (problems too), so that a cache keeps
/// the two apart.
///
/// Outermost of the middlewares: it sees every answer, problems included, as sent.
struct CompressionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// Answers up to this size are sent as they are: gzip would save too little.
    static let minimumSize = 1024
    /// Bodies of known length up to this size are compressed whole (larger ones as a stream).
    static let wholeLimit = 256 * 1024

    let budget: MemoryBudget

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let gzip = AcceptEncoding(request.headers[values: .acceptEncoding]).allowsGzip
        var response = try await next(request, context)
        guard !Self.isEventStream(response.headers) else { return response }
        Self.addVary(to: &response.headers)
        guard gzip, response.headers[.contentEncoding] == nil, response.status != .noContent,
            response.status != .notModified, (200...599).contains(response.status.code)
        else { return response }
        let length = response.body.contentLength
        if let length, length <= Self.minimumSize { return response }
        if let length, length <= Self.wholeLimit {
            let text = try await Self.collect(response.body)
            let compressed = try await GzipEncoder.compress(text)
            guard compressed.readableBytes < text.readableBytes else {
                response.body = ResponseBody(byteBuffer: text)
                return response
            }
            response.body = ResponseBody(byteBuffer: compressed)
        } else {
            response.body = Self.gzipped(response.body, budget: budget)
        }
        // (Setting the body set, or removed, its Content-Length.)
        response.headers[.contentEncoding] = "gzip"
        return response
    }

    static func isEventStream(_ headers: HTTPFields) -> Bool {
        headers[.contentType]?.lowercased().hasPrefix("text/event-stream") ?? false
    }

    /// Adds `Vary: Accept-Encoding` unless the answer already varies on it (or on everything).
    static func addVary(to headers: inout HTTPFields) {
        let varies = headers[values: .vary].contains { value in
            value.split(separator: ",").contains {
                let name = $0.trimmingCharacters(in: .whitespaces).lowercased()
                return name == "accept-encoding" || name == "*"
            }
        }
        if !varies { headers.append(HTTPField(name: .vary, value: "Accept-Encoding")) }
    }

    /// A streamed body, gzipped as it is written.
    static func gzipped(_ body: ResponseBody, budget: MemoryBudget) -> ResponseBody {
        ResponseBody { writer in
            budget.charge(GzipEncoder.memoryFootprint, kind: .answers)
            defer { budget.discharge(GzipEncoder.memoryFootprint, kind: .answers) }
            try await body.write(GzipBodyWriter(inner: writer, encoder: try GzipEncoder()))
        }
    }

    /// The bytes of a body of known (small) length.
    static func collect(_ body: ResponseBody) async throws -> ByteBuffer {
        let collector = Collector()
        try await body.write(collector)
        return collector.buffer
    }

    private final class Collector: ResponseBodyWriter {
        var buffer = ByteBuffer()
        func write(_ buffer: ByteBuffer) async throws {
            // A whole answer comes as one buffer: keep it rather than copy it.
            if self.buffer.readableBytes == 0 { self.buffer = buffer } else { self.buffer.writeImmutableBuffer(buffer) }
        }
        func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
