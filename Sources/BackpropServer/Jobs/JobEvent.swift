/// One server-sent event of a job: numbered from 1, so a stream can resume after
/// any `Last-Event-ID` without repeats or gaps.
struct JobEvent: Sendable, Equatable {
    enum Kind: String, Sendable {
        case progress, done, failed, cancelled
    }

    let id: Int
    let kind: Kind
    let data: JSONValue

    var isTerminal: Bool { kind != .progress }

    /// The event in `text/event-stream` framing: `id`, `event`, one `data` line, a blank line.
    var text: String {
        let json = String(decoding: JSONWriter.encode(data), as: UTF8.self)
        return "id: \(id)\nevent: \(kind.rawValue)\ndata: \(json)\n\n"
    }
}
