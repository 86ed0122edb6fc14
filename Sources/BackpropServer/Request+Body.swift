import Hummingbird
import NIOCore

extension Request {
    /// The whole body, at most `limit` bytes (413 above it), read within `timeout`.
    ///
    /// A body that cannot be read (a broken chunked encoding, a client that hangs up
    /// mid-upload) is a 400, never a 500. A body still arriving after `timeout` gets
    /// its connection closed: a client trickling bytes must not hold a connection
    /// forever (Hummingbird's idle timer restarts with every chunk). The deadline is
    /// a task on the connection's event loop, cancelled (and freed) as soon as the
    /// body is in; a sleeping Swift task would stay queued until its deadline.
    func collectBody(upTo limit: Int, timeout: Duration, context: AppRequestContext) async throws -> ByteBuffer {
        let channel = context.channel
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.milliseconds * 1e6))) {
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        do {
            return try await body.collect(upTo: limit)
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch {
            throw Problem(.badRequest, title: "Unreadable body", detail: "the request body could not be read: \(error)")
        }
    }
}
