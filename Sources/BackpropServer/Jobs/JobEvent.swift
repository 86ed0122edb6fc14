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
}
