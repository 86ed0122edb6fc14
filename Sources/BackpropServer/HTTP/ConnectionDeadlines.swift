import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Deadlines on connections, swept rather than timed one by one:
/// - the request-read timeout: a connection whose request body is still arriving
///   `timeout` after its handler began reading it is closed;
/// - the write timeout: a connection whose client has read nothing of an answer or
///   event stream for the idle timeout is closed (`begin(_:within:)` around each write);
///
/// Why not one timer per request: a handler runs off the event loop, so scheduling a
/// task on the connection's loop and cancelling it once the body is in are each a
/// cross-thread enqueue and wake-up of that loop. At tens of thousands of requests a
/// second that was a measurable share of a small POST's cost, to guard against a
/// client that almost never exists. Here a read registers its deadline under a lock
/// (one short critical section, no wake-up) and removes it when the body is in; one
/// sweep every `sweepInterval` closes the connections of the reads that are overdue.
/// A trickled body is thus cut off between `timeout` and `timeout + sweepInterval`
/// after its read began.
///
/// The sweep is a service: first in the application's list, it is the last told to
/// stop, after the server has drained, so slow bodies are cut off during a drain too.
final class ConnectionDeadlines: Service, Sendable {
    let timeout: Duration
    /// How often overdue reads are looked for: an eighth of the timeout, within 50 ms...1 s.
    let sweepInterval: Duration

    /// A body being read: the connection to close and when.
    private struct Read: Sendable {
        let channel: any Channel
        let deadline: ContinuousClock.Instant
    }

    /// The reads in progress by token, and the next token.
    private let reads = NIOLockedValueBox((reads: [Int: Read](), next: 0))

    init(timeout: Duration) {
        self.timeout = timeout
        sweepInterval = min(max(timeout / 8, .milliseconds(50)), .seconds(1))
    }

    /// Starts the clock on a read from `channel`; pass the token to `end` once the body is in.
    func begin(_ channel: any Channel) -> Int {
        begin(channel, within: timeout)
    }

    /// Closes `channel` unless `end` is called within `limit` (a read or a write).
    func begin(_ channel: any Channel, within limit: Duration) -> Int {
        let read = Read(channel: channel, deadline: .now + limit)
        return reads.withLockedValue { state in
            state.next &+= 1
            state.reads[state.next] = read
            return state.next
        }
    }

    /// The read is over (read in full, failed, or already cut off by a sweep).
    func end(_ token: Int) {
        _ = reads.withLockedValue { $0.reads.removeValue(forKey: token) }
    }

    /// Closes the connections of the overdue reads (and forgets those reads).
    func sweep(now: ContinuousClock.Instant = .now) {
        let overdue = reads.withLockedValue { state in
            let overdue = state.reads.filter { $0.value.deadline <= now }
            for token in overdue.keys { state.reads[token] = nil }
            return overdue.values.map(\.channel)
        }
        for channel in overdue { channel.close(promise: nil) }
    }

    /// Sweeps until the graceful shutdown reaches this service.
    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: self.sweepInterval)
                self.sweep()
            }
        }
    }
}
