import HTTPTypes
import Hummingbird
import NIOCore

/// A response body writer that gzips what is written to it on its way to `inner`:
/// a streamed answer is compressed piece by piece, at the pace its client reads.
struct GzipBodyWriter: ResponseBodyWriter {
    var inner: any ResponseBodyWriter
    let encoder: GzipEncoder

    mutating func write(_ buffer: ByteBuffer) async throws {
        var inner = self.inner
        try await encoder.write(buffer) { try await inner.write($0) }
        self.inner = inner
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        var inner = self.inner
        try await encoder.write(ByteBuffer(), finish: true) { try await inner.write($0) }
        try await inner.finish(trailingHeaders)
    }
}
