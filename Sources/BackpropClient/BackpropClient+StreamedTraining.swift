import Synchronization

extension BackpropClient {
    /// `POST /train` with `Accept: text/event-stream`: the training runs as a job (no
    /// synchronous budget) and its events come on this connection, as ``events(of:after:maxReconnects:)``
    /// sends them (hanging up before the last event cancels the job). Where the
    /// server ends the stream early with a `retry:` line, the sequence resumes with
    /// `GET /train/jobs/{id}/events` and `Last-Event-ID`, the job's id taken from the
    /// answer's `Location`.
    public func trainStreamingEvents(_ request: TrainRequest, maxReconnects: Int = 5) -> JobEventStream {
        let generated = generated
        let box = LocationBox()
        return JobEventStream(jobID: nil, lastEventID: nil, maxReconnects: maxReconnects) { after in
            if let id = box.jobID {
                let output = try await unwrappingProblems {
                    try await generated.trainingJobEvents(path: .init(id: id), headers: .init(lastEventID: after))
                }
                guard case let .ok(ok) = output else { throw Self.unexpected("trainingJobEvents", output) }
                return try ok.body.textEventStream
            }
            let output = try await unwrappingProblems {
                try await generated.train(headers: .init(accept: [.init(contentType: .textEventStream)]), body: .json(request))
            }
            guard case let .ok(ok) = output else { throw Self.unexpected("train", output) }
            // `/train/jobs/{id}`: where to resume.
            box.jobID = ok.headers.location.flatMap { $0.split(separator: "/").last.map(String.init) }
            return try ok.body.textEventStream
        }
    }
}

/// The job id of a streamed `POST /train`, once its answer has come.
private final class LocationBox: Sendable {
    private let value = Mutex<String?>(nil)

    var jobID: String? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
