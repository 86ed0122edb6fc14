import Hummingbird
import NIOCore

extension Request {
    /// The whole body, at most `limit` bytes (413 above it), read within `timeout`.
    ///
    /// A body that cannot be read (a broken chunked encoding, a client that hangs up
    /// mid-upload) is a 400, never a 500. A body still arriving after `timeout` is a
    /// 408, and the connection is closed: a client trickling bytes must not hold a
    /// connection forever (Hummingbird's idle timer restarts with every chunk).
    func collectBody(upTo limit: Int, timeout: Duration, context: AppRequestContext) async throws -> ByteBuffer {
        let body = self.body
        do {
            return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: limit) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let buffer = first else {
                    let channel = context.channel
                    Task {
                        // After the 408 has been written, hang up on the slow client.
                        try? await Task.sleep(for: .milliseconds(100))
                        channel.close(promise: nil)
                    }
                    throw Problem(
                        .requestTimeout, title: "Request timeout",
                        detail: "the request body did not arrive within \(timeout.components.seconds) s",
                        headers: [.connection: "close"])
                }
                return buffer
            }
        } catch let error as NIOTooManyBytesError {
            throw error
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(.badRequest, title: "Unreadable body", detail: "the request body could not be read: \(error)")
        }
    }
}
