import Hummingbird
import NIOCore

extension Request {
    /// The whole body, at most `limit` bytes (413 above it), read within `deadlines.timeout`,
    /// with the memory budget's room for it held in the returned reservation.
    ///
    /// Room is taken before a byte of the body is read: the declared length, or `limit`
    /// for a chunked body (given back down to its size once it is in). A large body
    /// that does not fit waits, its socket unread (`BodyGate`), until room frees; if
    /// that outlasts the request timeout it gets a 503 with `Retry-After` and its
    /// connection is closed. Small bodies use the budget's reserve, so they never
    /// queue behind large ones.
    ///
    /// A body that cannot be read (a broken chunked encoding, a client that hangs up
    /// mid-upload) is a 400, never a 500. A body still arriving after the timeout gets
    /// its connection closed: a client trickling bytes must not hold a connection
    /// forever (Hummingbird's idle timer restarts with every chunk). The read is
    /// registered with `deadlines`, whose periodic sweep closes it when overdue; see
    /// `ConnectionDeadlines` for why that is not a timer per request.
    ///
    /// A body with `Content-Encoding: gzip` or `deflate` is inflated as it arrives
    /// (`BodyInflater`): `limit` bounds both its compressed and its inflated size, and
    /// the reservation grows with the inflated body. Any other coding is a 415.
    func collectBody(
        upTo limit: Int, deadlines: ConnectionDeadlines, context: AppRequestContext, budget: MemoryBudget
    ) async throws -> (ByteBuffer, MemoryReservation) {
        let coding = try ContentCoding(headers)
        let declared = headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit { throw NIOTooManyBytesError(maxBytes: limit) }
        let token = deadlines.begin(context.channel)
        defer { deadlines.end(token) }
        let reservation = MemoryReservation(budget: budget, kind: .bodies)
        let expected = declared ?? (headers[.transferEncoding] != nil ? limit : 0)
        let deadline = ContinuousClock.now + deadlines.timeout - deadlines.sweepInterval
        guard await reservation.acquire(expected, until: deadline) else {
            // `Connection: close`: BodyGate closes the connection once the 503 is out,
            // without reading the body.
            throw Problem.memoryBudgetFull(waitedFor: deadlines.timeout)
        }
        if expected > budget.smallLimit || declared == nil,
            let gate = try? await context.channel.pipeline.handler(type: BodyGate.self).get()
        {
            gate.open(on: context.channel.eventLoop)
        }
        let inflater =
            coding == .identity ? nil : BodyInflater(coding: coding, limit: limit, reservation: reservation, until: deadline)
        var collected: ByteBuffer? = nil
        var compressed = 0
        do {
            for try await chunk in body {
                if let inflater {
                    compressed += chunk.readableBytes
                    if compressed > limit { throw NIOTooManyBytesError(maxBytes: limit) }
                    try await inflater.feed(chunk)
                    continue
                }
                guard var buffer = collected else {
                    if let declared, declared > chunk.readableBytes {
                        var buffer = ByteBufferAllocator().buffer(capacity: declared)
                        buffer.writeImmutableBuffer(chunk)
                        collected = buffer
                    } else {
                        collected = chunk
                    }
                    if chunk.readableBytes > limit { throw NIOTooManyBytesError(maxBytes: limit) }
                    continue
                }
                collected = nil  // unique, so the write below does not copy
                guard buffer.readableBytes + chunk.readableBytes <= limit else {
                    throw NIOTooManyBytesError(maxBytes: limit)
                }
                buffer.writeImmutableBuffer(chunk)
                collected = buffer
            }
            if let inflater { collected = try await inflater.finish() }
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(.badRequest, title: "Unreadable body", detail: "the request body could not be read: \(error)")
        }
        let buffer = collected ?? ByteBuffer()
        if buffer.readableBytes != expected {
            // A chunked body, or one shorter than declared: hold what it takes.
            reservation.resize(to: buffer.readableBytes, as: .bodies)
        }
        return (buffer, reservation)
    }
}

extension Problem {
    /// 503: a large body found no room in the memory budget within the request timeout.
    static func memoryBudgetFull(waitedFor timeout: Duration) -> Problem {
        Problem(
            .serviceUnavailable, title: "Memory budget full",
            detail: """
                the service is holding as much data for other clients as its memory budget allows, \
                and no room freed for this body within \(timeout.components.seconds) s; retry later
                """,
            headers: [.retryAfter: "5", .connection: "close"])
    }

    /// 422: an answer larger than the memory budget could ever hold.
    static func answerTooLarge(_ bytes: Int, budget: Int) -> Problem {
        Problem(
            .unprocessableContent, title: "Answer too large",
            detail: """
                the answer would hold about \(bytes >> 20) MiB, more than this server's memory budget \
                (\(budget >> 20) MiB) allows for answers; send fewer samples per request
                """)
    }

    /// 503: a computation's answer would not fit the memory budget now.
    static var memoryBudgetExhausted: Problem {
        Problem(
            .serviceUnavailable, title: "Memory budget full",
            detail: "the service is holding as much data for other clients as its memory budget allows; retry later",
            headers: [.retryAfter: "2"])
    }
}
