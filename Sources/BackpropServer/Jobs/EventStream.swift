import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle

/// A job's events as a `text/event-stream` response: the events after
/// `Last-Event-ID`, then each new one, ending after the terminal event, or with a
/// `retry:` hint when this replica stops serving the stream or the client fell too
/// far behind (the client reconnects, through the balancer, and resumes).
///
/// Each event is written in pieces (a `done` event carries the whole result), each
/// piece counted in the memory budget while it is written; a client that reads
/// nothing for the write timeout is disconnected.
///
/// If the service starts shutting down while a stream is open, the store's
/// shutdown begins at once, so the stream ends and the server can drain.
enum EventStream {
    static func response(
        for id: String, request: Request, store: any JobStore, grace: Duration, delivery: Delivery,
        channel: any Channel, status: HTTPResponse.Status = .ok, extraHeaders: HTTPFields = [:]
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
                    try await write(item, to: &writer, delivery: delivery, channel: channel)
                }
            } onGracefulShutdown: {
                Task { await store.shutdown(grace: grace) }
            }
            try await writer.finish(nil)
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// One item in `text/event-stream` framing: `id`, `event`, one `data` line (compact
    /// JSON has no line breaks), a blank line; or a `retry:` line.
    static func write(
        _ item: JobStreamItem, to writer: inout any ResponseBodyWriter, delivery: Delivery, channel: any Channel
    ) async throws {
        switch item {
        case .event(let event):
            try await JSONStreamWriter.write(
                event.data, pretty: false, chunkSize: Answer.chunkSize,
                prefix: "id: \(event.id)\nevent: \(event.kind.rawValue)\ndata: ", suffix: "\n\n"
            ) { piece in
                delivery.budget.charge(piece.readableBytes, kind: .streams)
                defer { delivery.budget.discharge(piece.readableBytes, kind: .streams) }
                try await delivery.write(piece, to: &writer, channel: channel)
            }
        case .retry(let milliseconds):
            try await delivery.write(ByteBuffer(string: "retry: \(milliseconds)\n\n"), to: &writer, channel: channel)
        }
    }
}
