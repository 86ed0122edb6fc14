import Foundation
import OpenAPIRuntime

/// One event of a training job's stream (`GET /train/jobs/{id}/events`, or `POST /train`
/// streamed): its number in the job's stream and what it says.
public struct JobEvent: Hashable, Sendable {
    /// What an event says; the data of each kind is the API's schema for it.
    public enum Kind: Hashable, Sendable {
        /// The training loss after an epoch.
        case progress(Components.Schemas.JobProgressEvent)
        /// The job succeeded: the `/train` response. The job's last event.
        case done(Components.Schemas.TrainResponse)
        /// The job succeeded, but its result was dropped to stay within the server's
        /// memory budget (the `Result dropped` problem, status 410). The job's last event.
        case resultDropped(BackpropProblem)
        /// The job failed: the problem that ended it. The job's last event.
        case failed(BackpropProblem)
        /// The job was cancelled (by `DELETE`, or a streaming client hanging up) or its
        /// in-memory server shut down. The job's last event.
        case cancelled(Components.Schemas.JobCancelledEvent)
    }

    /// The event's number in the job's stream, from 1: pass the last one received as
    /// `lastEventID` to resume after it.
    public var id: Int
    public var kind: Kind

    public init(id: Int, kind: Kind) {
        self.id = id
        self.kind = kind
    }

    /// Whether the job's stream ends with this event.
    public var isLast: Bool {
        if case .progress = kind { false } else { true }
    }

    /// The event of a server-sent event as the runtime parsed it: `event:` names the
    /// schema of the JSON in `data:`.
    init(_ event: ServerSentEvent) throws {
        func unreadable(_ detail: String) -> BackpropClientError {
            .unreadableEvent(event: event.event, id: event.id, detail: detail)
        }
        guard let idText = event.id, let id = Int(idText) else { throw unreadable("no numeric id") }
        guard let data = event.data else { throw unreadable("no data") }
        let json = Data(data.utf8)
        let decoder = JSONDecoder()
        do {
            switch event.event {
            case "progress":
                self.init(id: id, kind: .progress(try decoder.decode(Components.Schemas.JobProgressEvent.self, from: json)))
            case "done":
                switch try decoder.decode(Components.Schemas.JobDoneEvent.self, from: json) {
                case let .TrainResponse(result): self.init(id: id, kind: .done(result))
                case let .Problem(problem): self.init(id: id, kind: .resultDropped(BackpropProblem(problem)))
                }
            case "failed":
                self.init(id: id, kind: .failed(BackpropProblem(try decoder.decode(Components.Schemas.Problem.self, from: json))))
            case "cancelled":
                self.init(id: id, kind: .cancelled(try decoder.decode(Components.Schemas.JobCancelledEvent.self, from: json)))
            default:
                throw unreadable("unknown kind of event")
            }
        } catch let error as DecodingError {
            throw unreadable("\(error)")
        }
    }
}
