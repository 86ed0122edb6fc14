import OpenAPIRuntime

/// A training job's events, as an `AsyncSequence` of typed ``JobEvent``s: every event
/// after `lastEventID` (all of them without one), then each new one as it comes, until
/// the job's last event (`done`, `resultDropped`, `failed` or `cancelled`).
///
/// The server may end a stream before the job's last event, with a `retry:` line: a
/// replica shutting down (PostgreSQL store), or a reader that fell 1,024 events behind.
/// The sequence then reconnects after the `retry` delay, sending the id of the last event
/// it returned as `Last-Event-ID`, so nothing is repeated or missed. A stream that ends
/// without `retry:` ends the sequence (resuming after a job's last event gives nothing). It gives up, with
/// ``BackpropClientError/eventStreamEnded(jobID:lastEventID:)``, after `maxReconnects`
/// reconnections in a row that brought no event. A problem answer (a 404 for an unknown
/// job, say) is thrown as a ``BackpropProblem``; a transport error as it comes.
public struct JobEventStream: AsyncSequence, Sendable {
    public typealias Element = JobEvent

    /// The job whose events these are (nil for a streamed `POST /train`, whose job the
    /// server makes).
    public let jobID: String?
    let lastEventID: Int?
    let maxReconnects: Int
    /// Opens the stream after the given event id (all events for nil).
    let open: @Sendable (Int?) async throws -> HTTPBody

    init(jobID: String?, lastEventID: Int?, maxReconnects: Int, open: @escaping @Sendable (Int?) async throws -> HTTPBody) {
        self.jobID = jobID
        self.lastEventID = lastEventID
        self.maxReconnects = maxReconnects
        self.open = open
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(stream: self, lastEventID: lastEventID)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        typealias Events = ServerSentEventsDeserializationSequence<ServerSentEventsLineDeserializationSequence<HTTPBody>>

        let stream: JobEventStream
        /// The id of the last event returned (or the caller's starting point).
        var lastEventID: Int?
        var events: Events.AsyncIterator?
        var finished = false
        /// Reconnections in a row without an event.
        var reconnects = 0
        /// Whether the current connection sent `retry:`, the server's word that it ends the
        /// stream before the job's last event.
        var sawRetry = false
        /// The server's `retry:` delay, in milliseconds (the SSE default until it sends one).
        var retryMilliseconds: Int64 = 1000

        init(stream: JobEventStream, lastEventID: Int?) {
            self.stream = stream
            self.lastEventID = lastEventID
        }

        public mutating func next() async throws -> JobEvent? {
            while !finished {
                if events == nil {
                    events = try await stream.open(lastEventID).asDecodedServerSentEvents().makeAsyncIterator()
                }
                guard let serverSentEvent = try await events?.next() else {
                    events = nil
                    // Without `retry:`, the server had no more to send: the job's last
                    // event came before `lastEventID`, or there is no such event.
                    guard sawRetry else {
                        finished = true
                        return nil
                    }
                    // The server ended the stream early: resume after the last event.
                    sawRetry = false
                    reconnects += 1
                    if reconnects > stream.maxReconnects {
                        finished = true
                        throw BackpropClientError.eventStreamEnded(jobID: stream.jobID, lastEventID: lastEventID)
                    }
                    try await Task.sleep(for: .milliseconds(retryMilliseconds))
                    continue
                }
                if let retry = serverSentEvent.retry {
                    retryMilliseconds = Swift.max(0, retry)
                    sawRetry = true
                }
                // A block with only `retry:` (or only comments) is no event.
                guard serverSentEvent.event != nil || serverSentEvent.data != nil else { continue }
                let event = try JobEvent(serverSentEvent)
                lastEventID = event.id
                reconnects = 0
                if event.isLast {
                    finished = true
                    events = nil
                }
                return event
            }
            return nil
        }
    }
}
