/// A job's event stream with a capped buffer, for both stores: events are yielded
/// without ever waiting (the job is never slowed by its watchers), and a consumer
/// that stops reading gets, once `cap` live events wait for it, a `retry:` hint and
/// the end of its stream. Nothing is lost: the client resumes from its
/// `Last-Event-ID` when it is ready, and the store replays from there.
struct CappedEventStream: Sendable {
    /// Live events that may wait for one consumer. Each is shared with the job's log
    /// (memory store) or a small row (PostgreSQL), so the cap is about 100 KB a stream.
    static let cap = 1024
    /// The hint sent when the cap is reached: reconnect after a second.
    static let retryMilliseconds = 1000

    let base: AsyncStream<JobStreamItem>.Continuation

    /// A stream with room for `replay` events already known, plus the live cap.
    static func make(replay: Int = 0) -> (AsyncStream<JobStreamItem>, CappedEventStream) {
        let (stream, continuation) = AsyncStream.makeStream(
            of: JobStreamItem.self, bufferingPolicy: .bufferingOldest(replay + cap + 1))
        return (stream, CappedEventStream(base: continuation))
    }

    /// Yields `event`; false once the stream is over (the consumer left, or the cap
    /// was reached and the stream was ended with a `retry:` hint): stop yielding.
    @discardableResult
    func yield(_ event: JobEvent) -> Bool {
        switch base.yield(.event(event)) {
        case .enqueued(let remaining):
            if event.isTerminal {
                base.finish()
                return false
            }
            guard remaining <= 1 else { return true }
            base.yield(.retry(milliseconds: Self.retryMilliseconds))
            base.finish()
            return false
        case .dropped, .terminated:
            base.finish()
            return false
        @unknown default:
            base.finish()
            return false
        }
    }

    func finish() { base.finish() }
}
