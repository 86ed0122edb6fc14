import Foundation

/// Event streams over the store: replay from the table after `Last-Event-ID`, then
/// follow, woken by the job's notification or, as a fallback, a read every 2 s.
extension PostgresJobStore {
    /// How often a stream reads the table when no notification came.
    static let pollInterval = Duration.seconds(2)

    func events(_ id: String, after lastEventID: Int) -> AsyncStream<JobStreamItem> {
        let (stream, capped) = CappedEventStream.make()
        let continuation = capped.base
        let key = state.withLockedValue { state -> Int? in
            guard state.phase == .serving else { return nil }
            state.nextStream += 1
            state.streams[state.nextStream] = continuation
            return state.nextStream
        }
        guard let key else {
            continuation.yield(.retry(milliseconds: 1000))
            continuation.finish()
            return stream
        }
        let task = Task {
            let (token, bell) = listener.follow(id)
            defer { listener.unfollow(id, token: token) }
            var last = lastEventID
            while !Task.isCancelled {
                var batch: [JobEvent] = []
                do {
                    let after = last
                    batch = try await withTimeout(.seconds(5)) { try await self.events(of: id, after: after, limit: 256) }
                    if batch.isEmpty, try await !withTimeout(.seconds(5), { try await self.exists(id) }) { break }
                } catch {
                    metrics.databaseErrors.increment()  // the stream waits for the database to come back
                }
                for event in batch {
                    // Ends the stream after the terminal event, or with a retry hint
                    // once its consumer is `CappedEventStream.cap` events behind.
                    guard capped.yield(event) else { return }
                    last = event.id
                }
                if batch.count < 256 { await bell.wait(timeout: Self.pollInterval) }
            }
            continuation.finish()
        }
        continuation.onTermination = { [weak self] _ in
            task.cancel()
            self?.state.withLockedValue { _ = $0.streams.removeValue(forKey: key) }
        }
        return stream
    }

    /// Ends every open stream with a `retry:` hint (the service is stopping).
    func endStreams() {
        let streams = state.withLockedValue { state in
            defer { state.streams = [:] }
            return Array(state.streams.values)
        }
        for stream in streams {
            stream.yield(.retry(milliseconds: 1000))
            stream.finish()
        }
    }
}
