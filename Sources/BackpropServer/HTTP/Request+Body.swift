import Hummingbird
import NIOCore

extension Request {
    /// The whole body, at most `limit` bytes (413 above it), read within `deadlines.timeout`.
    ///
    /// A body that cannot be read (a broken chunked encoding, a client that hangs up
    /// mid-upload) is a 400, never a 500. A body still arriving after the timeout gets
    /// its connection closed: a client trickling bytes must not hold a connection
    /// forever (Hummingbird's idle timer restarts with every chunk). The read is
    /// registered with `deadlines`, whose periodic sweep closes it when overdue; see
    /// `RequestReadDeadlines` for why that is not a timer per request.
    func collectBody(upTo limit: Int, deadlines: RequestReadDeadlines, context: AppRequestContext) async throws -> ByteBuffer {
        let token = deadlines.begin(context.channel)
        defer { deadlines.end(token) }
        do {
            return try await body.collect(upTo: limit)
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch {
            throw Problem(.badRequest, title: "Unreadable body", detail: "the request body could not be read: \(error)")
        }
    }
}
