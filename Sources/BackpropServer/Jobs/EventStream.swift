import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// A job's events as a `text/event-stream` response: the events after
/// `Last-Event-ID`, then each new one, ending after the terminal event.
///
/// If the service starts shutting down while a stream is open, the registry's
/// shutdown begins at once (so the stream ends with a `cancelled` event whose
/// reason is "shutdown", and the server can drain).
enum EventStream {
    static func response(
        for job: Job, request: Request, registry: JobRegistry, grace: Duration,
        status: HTTPResponse.Status = .ok, extraHeaders: HTTPFields = [:]
    ) -> Response {
        let lastID = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? 0
        var headers: HTTPFields = [
            .contentType: "text/event-stream", .cacheControl: "no-cache",
            HTTPField.Name("X-Accel-Buffering")!: "no",
        ]
        headers.append(contentsOf: extraHeaders)
        let body = ResponseBody { writer in
            try await withGracefulShutdownHandler {
                for await event in job.events(after: lastID) {
                    try await writer.write(ByteBuffer(string: event.text))
                }
            } onGracefulShutdown: {
                Task { await registry.shutdown(grace: grace) }
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }
}
