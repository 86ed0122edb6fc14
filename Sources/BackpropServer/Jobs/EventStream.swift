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
        for id: String, after lastID: Int, store: any JobStore, grace: Duration, delivery: Delivery,
        channel: any Channel, status: HTTPResponse.Status = .ok, extraHeaders: HTTPFields = [:]
    ) -> Response {
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

    /// The `Last-Event-ID` header: the id of the last event the client has, a
    /// non-negative integer (0 when absent; one beyond `Int` resumes after every
    /// event). Anything else is a 400 naming the header, so a client's bug shows
    /// instead of replaying the whole stream.
    static func lastEventID(_ request: Request) throws(Problem) -> Int {
        guard let raw = request.headers[lastEventIDField] else { return 0 }
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw Problem(
                .badRequest, title: "Invalid Last-Event-ID",
                detail: "Last-Event-ID must be a non-negative integer, the id of the last event received")
        }
        return Int(text) ?? Int.max
    }

    static let lastEventIDField = HTTPField.Name("Last-Event-ID")!

    /// One item in `text/event-stream` framing: `id`, `event`, one `data` line (compact
    /// JSON has no line breaks), a blank line; or a `retry:` line.
    static func write(
        _ item: JobStreamItem, to writer: inout any ResponseBodyWriter, delivery: Delivery, channel: any Channel
    ) async throws {
        switch item {
        case .event(let event):
            try await JSONStreamWriter.write(
                event.data, pretty: false, chunkSize: Answer.chunkSize, gate: delivery.encoders,
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
