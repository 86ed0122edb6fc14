import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// LISTEN on the job store's channels, on one connection that is opened again
/// whenever it drops. Notifications only wake things up; each carries a job id.
///
/// - `backprop_events`: a job has a new event; rings the doorbells of its streams.
/// - `backprop_queue`: a job was queued; rings `queue` (the claim loop).
/// - `backprop_cancel`: a running job's cancel was requested; calls `onCancel`.
/// - `backprop_networks`: a stored network's versions changed; calls the handler set
///   with `onNetworkChange` with its name (and with nil after each (re)connection).
///
/// After every (re)connection everything is rung once, so whatever was missed while
/// the connection was down is caught up by a read of the tables.
final class PostgresListener: Sendable {
    private struct State {
        var followers: [String: [Int: Doorbell]] = [:]
        var nextToken = 0
    }

    let queue = Doorbell()
    private let onCancel: @Sendable (String) -> Void
    private let state = NIOLockedValueBox(State())
    private let onNetwork = NIOLockedValueBox<(@Sendable (String?) -> Void)?>(nil)

    init(onCancel: @escaping @Sendable (String) -> Void) {
        self.onCancel = onCancel
    }

    /// A doorbell rung at each new event of job `id`; `unfollow` with the token when done.
    func follow(_ id: String) -> (token: Int, bell: Doorbell) {
        let bell = Doorbell()
        let token = state.withLockedValue { state in
            state.nextToken += 1
            state.followers[id, default: [:]][state.nextToken] = bell
            return state.nextToken
        }
        return (token, bell)
    }

    func unfollow(_ id: String, token: Int) {
        state.withLockedValue { state in
            state.followers[id]?[token] = nil
            if state.followers[id]?.isEmpty == true { state.followers[id] = nil }
        }
    }

    /// Calls `handler` with a network's name at each change of its versions, and with
    /// nil after each (re)connection (anything may have changed meanwhile).
    func onNetworkChange(_ handler: @escaping @Sendable (String?) -> Void) {
        onNetwork.withLockedValue { $0 = handler }
    }

    private func networkChanged(_ name: String?) {
        onNetwork.withLockedValue { $0 }?(name)
    }

    private func ringFollowers(of id: String?) {
        let bells = state.withLockedValue { state in
            id.map { state.followers[$0].map { Array($0.values) } ?? [] } ?? state.followers.values.flatMap(\.values)
        }
        for bell in bells { bell.ring() }
    }

    /// Listens until the task is cancelled, reconnecting after a pause when the connection drops.
    func run(client: PostgresClient, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await client.withOpenConnection { connection in
                    try await connection.listen(on: "backprop_events") { events in
                        try await connection.listen(on: "backprop_queue") { queued in
                            try await connection.listen(on: "backprop_cancel") { cancels in
                                try await connection.listen(on: "backprop_networks") { networks in
                                    ringFollowers(of: nil)
                                    queue.ring()
                                    networkChanged(nil)
                                    try await consume(events, queued, cancels, networks)
                                }
                            }
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("job store listener lost its connection; reconnecting", metadata: ["error": "\(PostgresJobStore.describe(error))"])
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    private func consume(
        _ events: PostgresNotificationSequence, _ queued: PostgresNotificationSequence,
        _ cancels: PostgresNotificationSequence, _ networks: PostgresNotificationSequence
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for try await note in events { self.ringFollowers(of: note.payload) } }
            group.addTask { for try await _ in queued { self.queue.ring() } }
            group.addTask { for try await note in cancels { self.onCancel(note.payload) } }
            group.addTask { for try await note in networks { self.networkChanged(note.payload) } }
            // Any sequence ending means the connection is gone: start again.
            try await group.next()
            group.cancelAll()
        }
        throw CancellationError()
    }
}
