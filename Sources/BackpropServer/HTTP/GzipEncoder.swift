import CompressNIO
import NIOCore

/// gzip (RFC 1952) as the server compresses answers: text in, compressed pieces of
/// `pieceSize` bytes out as they fill, so a large answer is compressed as it is
/// written, never held whole. The level is the one BENCHMARKS.md ("Compression")
/// chose; the benchmark measures the others with this same type.
public final class GzipEncoder {
    /// zlib's level 1: on a 20 MB `/forward` answer about five times as fast as the
    /// default (6) for 6 % more bytes (BENCHMARKS.md, "Compression").
    public static let level: Int32 = 1
    /// What one encoder holds while it works (zlib's window and hash tables at memory
    /// level 8, and the piece being filled): what the memory budget is charged for it.
    public static let memoryFootprint = (128 + 128 + 8) * 1024 + Answer.chunkSize

    private let compressor: ZlibCompressor
    private let pieceSize: Int
    private var piece: ByteBuffer

    public init(level: Int32 = GzipEncoder.level, pieceSize: Int = 64 * 1024) throws {
        compressor = try ZlibCompressor(algorithm: .gzip, configuration: ZlibConfiguration(compressionLevel: level))
        self.pieceSize = max(pieceSize, 64)
        piece = ByteBufferAllocator().buffer(capacity: self.pieceSize)
    }

    /// Compresses `input`, handing each full piece to `emit`; with `finish`, ends the
    /// stream and hands over the rest. Nothing may be written after a `finish`.
    public func write(_ input: ByteBuffer, finish: Bool = false, emit: (ByteBuffer) async throws -> Void) async throws {
        // An empty buffer with storage: zlib is handed its address even when there is nothing to read.
        var input = input.readableBytes > 0 ? input : ByteBufferAllocator().buffer(capacity: 16)
        while input.readableBytes > 0 || finish {
            if piece.writableBytes == 0 {
                try await emit(piece)
                piece = ByteBufferAllocator().buffer(capacity: pieceSize)
            }
            let before = (input.readableBytes, piece.readableBytes)
            do {
                try compressor.deflate(from: &input, to: &piece, flush: finish ? .finish : .no)
                if finish { break }  // the stream's end is written
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // The piece is full (or, without `finish`, the input used up).
                guard (input.readableBytes, piece.readableBytes) != before || piece.writableBytes == 0 else {
                    throw CompressNIOError.internalError  // no progress: never loop forever
                }
            }
        }
        if finish, piece.readableBytes > 0 {
            try await emit(piece)
            piece = ByteBufferAllocator().buffer(capacity: pieceSize)
        }
    }

    /// `input` compressed whole (for small answers).
    public static func compress(_ input: ByteBuffer, level: Int32 = GzipEncoder.level) async throws -> ByteBuffer {
        let encoder = try GzipEncoder(level: level, pieceSize: max(input.readableBytes / 2, 256))
        var output = ByteBuffer()
        try await encoder.write(input, finish: true) { output.writeImmutableBuffer($0) }
        return output
    }
}
