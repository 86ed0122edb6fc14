import OpenAPIRuntime

extension BackpropClient {
    /// `POST /train/jobs`: starts a training job (no synchronous budget) and returns it
    /// as it stood when queued. With an `idempotencyKey`, sending the same request again
    /// (after a timeout, say) returns the job the first one created instead of a second.
    public func submitJob(_ request: TrainRequest, idempotencyKey: String? = nil) async throws -> Job {
        let output = try await unwrappingProblems {
            try await generated.createTrainingJob(headers: .init(idempotencyKey: idempotencyKey), body: .json(request))
        }
        guard case let .accepted(accepted) = output else { throw Self.unexpected("createTrainingJob", output) }
        return try accepted.body.json
    }

    /// `GET /train/jobs/{id}`: the job's status and progress, with its `result` once it
    /// has succeeded or its `error` if it failed.
    public func job(_ id: String) async throws -> Job {
        let output = try await unwrappingProblems { try await generated.getTrainingJob(path: .init(id: id)) }
        guard case let .ok(ok) = output else { throw Self.unexpected("getTrainingJob", output) }
        return try ok.body.json
    }

    /// `GET /train/jobs`: the jobs the server keeps, oldest first, without results.
    public func jobs() async throws -> [Job] {
        let output = try await unwrappingProblems { try await generated.listTrainingJobs() }
        guard case let .ok(ok) = output else { throw Self.unexpected("listTrainingJobs", output) }
        return try ok.body.json.jobs
    }

    /// `DELETE /train/jobs/{id}`: cancels the job (a running one within a mini-batch, so
    /// the answer may still show it running) and returns it.
    public func cancelJob(_ id: String) async throws -> Job {
        let output = try await unwrappingProblems { try await generated.cancelTrainingJob(path: .init(id: id)) }
        guard case let .ok(ok) = output else { throw Self.unexpected("cancelTrainingJob", output) }
        return try ok.body.json
    }

    /// The `/train` response of a job that succeeded. Throws the job's problem if it
    /// failed, ``BackpropClientError/noResult(jobID:status:)`` if it has not succeeded
    /// (yet), and the `Result dropped` problem (410) if its result was dropped.
    public func jobResult(_ id: String) async throws -> TrainResponse {
        let job = try await job(id)
        if let result = job.result { return result }
        if let error = job.error { throw BackpropProblem(error) }
        throw BackpropClientError.noResult(jobID: id, status: job.status.rawValue)
    }

    /// `GET /train/jobs/{id}/events`: the job's events as they come, until its last one
    /// (see ``JobEventStream``, which reconnects with `Last-Event-ID` where the server
    /// ends a stream early).
    ///
    /// - Parameters:
    ///   - lastEventID: Resume after this event (the `id` of the last one received);
    ///     nil for every event of the job.
    ///   - maxReconnects: Reconnections in a row without an event (after the server
    ///     ended the stream early with `retry:`) before giving up.
    public func events(of jobID: String, after lastEventID: Int? = nil, maxReconnects: Int = 5) -> JobEventStream {
        let generated = generated
        return JobEventStream(jobID: jobID, lastEventID: lastEventID, maxReconnects: maxReconnects) { after in
            let output = try await unwrappingProblems {
                try await generated.trainingJobEvents(path: .init(id: jobID), headers: .init(lastEventID: after))
            }
            guard case let .ok(ok) = output else { throw Self.unexpected("trainingJobEvents", output) }
            return try ok.body.textEventStream
        }
    }

    /// Submits a job and follows its events to the end: the `/train` response of a job
    /// that succeeded. `progress` sees every progress event. Throws the problem of a job
    /// that failed, was cancelled (``BackpropClientError/noResult(jobID:status:)``) or
    /// whose result was dropped.
    public func trainAsJob(
        _ request: TrainRequest, idempotencyKey: String? = nil,
        progress: (Components.Schemas.JobProgressEvent) -> Void = { _ in }
    ) async throws -> TrainResponse {
        let job = try await submitJob(request, idempotencyKey: idempotencyKey)
        for try await event in events(of: job.id) {
            switch event.kind {
            case let .progress(value): progress(value)
            case let .done(result): return result
            case let .resultDropped(problem), let .failed(problem): throw problem
            case .cancelled: throw BackpropClientError.noResult(jobID: job.id, status: "cancelled")
            }
        }
        // The stream only ends after a last event, which returned or threw above.
        throw BackpropClientError.eventStreamEnded(jobID: job.id, lastEventID: nil)
    }
}
