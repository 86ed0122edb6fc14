import CompressNIO
import NIOCore

/// A gzip or deflate request body undone as it arrives, into at most `limit` bytes.
///
/// The compressed pieces go through zlib one at a time into a 64 KiB window, whose
/// output is appended to the body; the compressed bytes are not kept. The moment the
/// output passes `limit` the read stops with a 413, so a zip bomb costs at most
/// `limit` bytes and the time to inflate them, never its whole size.
///
/// The memory budget holds the output: the reservation grows (by doubling, up to
/// `limit`) before the output does, waiting for room like any large body, until
/// `deadline` (then a 503).
final class BodyInflater {
    let coding: ContentCoding
    let limit: Int
    private let reservation: MemoryReservation
    private let deadline: ContinuousClock.Instant
    private var decompressor: ZlibDecompressor?
    /// The first bytes, until there are two: a deflate body's zlib header tells which format it is.
    private var head = ByteBuffer()
    private var window = ByteBufferAllocator().buffer(capacity: 64 * 1024)
    private(set) var output = ByteBuffer()

    init(coding: ContentCoding, limit: Int, reservation: MemoryReservation, until deadline: ContinuousClock.Instant) {
        self.coding = coding
        self.limit = limit
        self.reservation = reservation
        self.deadline = deadline
    }

    /// Inflates one piece of the compressed body.
    func feed(_ piece: ByteBuffer) async throws {
        var input = piece
        guard let decompressor = try start(with: &input) else { return }
        while input.readableBytes > 0 {
            window.clear()
            var outcome: CompressNIOError? = nil
            let before = input.readableBytes
            do {
                try decompressor.inflate(from: &input, to: &window)
            } catch let error as CompressNIOError {
                outcome = error
            }
            if outcome != nil, input.readableBytes == before, window.readableBytes == 0 {
                throw Problem.corruptBody(coding, "zlib made no progress")  // never loop forever
            }
            try await append()
            switch outcome {
            case nil where input.readableBytes > 0:
                // The stream ended before its input: another gzip member (RFC 1952 §2.2), or junk.
                guard coding == .gzip else { throw Problem.corruptBody(coding, "data after the end of the stream") }
                do { try decompressor.reset() } catch { throw Problem.corruptBody(coding, "\(error)") }
            case nil, .bufferOverflow?, .inputBufferOverflow?:
                continue  // input used up, or the window is full: go on
            case .corruptData?:
                throw Problem.corruptBody(coding, "the compressed data is corrupt")
            case let other?:
                throw Problem.corruptBody(coding, "zlib failed (\(other))")
            }
        }
    }

    /// The whole body, once its last piece is in; a 400 if the stream stopped short of its end.
    func finish() async throws -> ByteBuffer {
        guard let decompressor else {
            throw Problem.corruptBody(coding, head.readableBytes == 0 ? "the body is empty" : "the stream ends early")
        }
        // What zlib still holds comes out with no more input; then, past the end of the
        // stream it says so again (no error, no output), and before it asks for more input.
        var empty = ByteBufferAllocator().buffer(capacity: 16)
        while true {
            window.clear()
            do {
                try decompressor.inflate(from: &empty, to: &window)
                if window.readableBytes == 0 { return output }
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // The window is full: more to come.
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                throw Problem.corruptBody(coding, "the stream ends early")
            } catch {
                throw Problem.corruptBody(coding, "the compressed data is corrupt")
            }
            try await append()
        }
    }

    /// The decompressor, once there are enough bytes to choose it (`input` then holds them all).
    private func start(with input: inout ByteBuffer) throws -> ZlibDecompressor? {
        if let decompressor { return decompressor }
        head.writeBuffer(&input)
        guard head.readableBytes >= 2 else { return nil }
        // deflate: zlib if it starts with a zlib header (method 8, the two bytes a
        // multiple of 31: RFC 1950 §2.2), else raw deflate.
        let first = UInt16(head.getInteger(at: head.readerIndex, as: UInt8.self) ?? 0)
        let second = UInt16(head.getInteger(at: head.readerIndex + 1, as: UInt8.self) ?? 0)
        let zlib = first & 0x0F == 8 && (first << 8 | second) % 31 == 0
        let algorithm: ZlibAlgorithm = coding == .gzip ? .gzip : zlib ? .zlib : .deflate
        let decompressor = try ZlibDecompressor(algorithm: algorithm)
        self.decompressor = decompressor
        input = head
        head = ByteBuffer()
        return decompressor
    }

    /// Moves the window's bytes to the output: a 413 past `limit`, and room in the budget first.
    private func append() async throws {
        guard window.readableBytes > 0 else { return }
        let size = output.readableBytes + window.readableBytes
        guard size <= limit else { throw NIOTooManyBytesError(maxBytes: limit) }
        let held = reservation.bytes
        if size > held {
            let target = min(limit, max(size, 2 * held, 256 * 1024))
            guard await reservation.acquire(target - held, until: deadline) else {
                throw Problem(
                    .serviceUnavailable, title: "Memory budget full",
                    detail: "the service is holding as much data for other clients as its memory budget allows; retry later",
                    headers: [.retryAfter: "5"])
            }
            output.reserveCapacity(target)
        }
        output.writeBuffer(&window)
    }
}

extension Problem {
    /// 400: a gzip or deflate body that does not inflate.
    static func corruptBody(_ coding: ContentCoding, _ reason: String) -> Problem {
        Problem(
            .badRequest, title: "Unreadable body",
            detail: "the request body is not valid \(coding.rawValue) (Content-Encoding: \(coding.rawValue)): \(reason)")
    }
}
