import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// A job's events as a `text/event-stream` response: the events after
/// `Last-Event-ID`, then each new one, ending after the terminal event, or with a
/// `retry:` hint when this replica stops serving the stream (the client reconnects,
/// through the balancer, and resumes).
///
/// If the service starts shutting down while a stream is open, the store's
/// shutdown begins at once, so the stream ends and the server can drain.
enum EventStream {
    static func response(
        for id: String, request: Request, store: any JobStore, grace: Duration,
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
                for await item in store.events(id, after: lastID) {
                    try await writer.write(ByteBuffer(string: item.text))
                }
            } onGracefulShutdown: {
                Task { await store.shutdown(grace: grace) }
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }
}

extension JobStreamItem {
    /// The item in `text/event-stream` framing.
    var text: String {
        switch self {
        case .event(let event): event.text
        case .retry(let milliseconds): "retry: \(milliseconds)\n\n"
        }
    }
}
