import BackpropCore
import Foundation
import NIOConcurrencyHelpers

/// A training job: its state changes in one place, under one lock, and its events
/// form an append-only log that any number of streams read.
final class Job: Sendable {
    enum Status: String, Sendable {
        case queued, running, succeeded, failed, cancelled

        var isFinished: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    struct State {
        var status = Status.queued
        var epoch = 0
        var loss: Double? = nil
        var validationLoss: Double? = nil
        var startedAt: Date? = nil
        var finishedAt: Date? = nil
        var result: JSONValue? = nil
        var problem: Problem? = nil
        var events: [JobEvent] = []
        var lastProgressEvent = ContinuousClock.now
        var subscribers: [Int: CappedEventStream] = [:]
        /// The memory the result holds (charged to the budget), 0 once dropped.
        var resultBytes = 0
        var resultDropped = false
        var nextSubscriber = 0
    }

    let id: String
    let epochs: Int
    let createdAt = Date()
    let cancellation = CancellationFlag()
    /// Progress events are sent at most this often, besides every history point.
    static let progressInterval = Duration.milliseconds(100)
    private let state = NIOLockedValueBox(State())

    init(id: String, epochs: Int) {
        self.id = id
        self.epochs = epochs
    }

    var status: Status { state.withLockedValue { $0.status } }

    /// queued → running; false if the job was cancelled while it waited.
    func start() -> Bool {
        state.withLockedValue { state in
            guard state.status == .queued else { return false }
            state.status = .running
            state.startedAt = Date()
            return true
        }
    }

    /// Records an epoch; appends a progress event at every history point, and
    /// otherwise when the last one is at least `progressInterval` old.
    func record(_ progress: EpochProgress) {
        state.withLockedValue { state in
            state.epoch = progress.epoch
            state.loss = progress.loss
            state.validationLoss = progress.validationLoss
            let now = ContinuousClock.now
            guard progress.isHistoryPoint || now - state.lastProgressEvent >= Self.progressInterval else { return }
            state.lastProgressEvent = now
            var data: [(key: String, value: JSONValue)] = [
                ("epoch", .unsigned(UInt64(progress.epoch))), ("epochs", .unsigned(UInt64(epochs))),
                ("loss", .number(progress.loss)),
            ]
            if let validationLoss = progress.validationLoss { data.append(("validation_loss", .number(validationLoss))) }
            append(.progress, .object(data), to: &state)
        }
    }

    /// Ends the job (once): succeeded with its result, failed with a problem, or
    /// cancelled with a reason. Returns false if it had already ended.
    @discardableResult
    func finish(_ status: Status, result: JSONValue? = nil, problem: Problem? = nil, reason: String? = nil) -> Bool {
        state.withLockedValue { state -> Bool in
            guard !state.status.isFinished else { return false }
            state.status = status
            state.finishedAt = Date()
            state.result = result
            state.resultBytes = result?.memoryFootprint ?? 0
            state.problem = problem
            switch status {
            case .succeeded: append(.done, result ?? .null, to: &state)
            case .failed: append(.failed, problem.map(\.json) ?? .null, to: &state)
            default:
                append(.cancelled, .object([
                    ("epoch", .unsigned(UInt64(state.epoch))), ("reason", .string(reason ?? "cancelled")),
                ]), to: &state)
            }
            state.subscribers = [:]  // the terminal event ended each stream
            return true
        }
    }

    private func append(_ kind: JobEvent.Kind, _ data: JSONValue, to state: inout State) {
        let event = JobEvent(id: state.events.count + 1, kind: kind, data: data)
        state.events.append(event)
        for (key, subscriber) in state.subscribers where !subscriber.yield(event) {
            state.subscribers[key] = nil  // its buffer was full: it ended with a retry hint
        }
    }

    /// The memory the result holds, 0 if none (or dropped).
    var resultBytes: Int { state.withLockedValue { $0.resultBytes } }

    /// Drops a succeeded job's result to free memory: GET then answers 410, and the
    /// `done` event carries that problem instead. Returns the bytes freed.
    func dropResult() -> Int {
        state.withLockedValue { state in
            guard state.result != nil else { return 0 }
            let freed = state.resultBytes
            state.result = nil
            state.resultBytes = 0
            state.resultDropped = true
            if let last = state.events.last, last.kind == .done {
                state.events[state.events.count - 1] = JobEvent(
                    id: last.id, kind: .done, data: Problem.resultDropped(snapshot(of: state)).json)
            }
            return freed
        }
    }

    /// Every event after `lastEventID`, then each new one as it comes; the stream
    /// ends after the terminal event, or with a retry hint if its consumer falls
    /// `CappedEventStream.cap` events behind. Subscribing and replaying happen under
    /// the same lock as appending, so nothing is repeated or missed.
    func events(after lastEventID: Int) -> AsyncStream<JobStreamItem> {
        state.withLockedValue { state in
            let replay = state.events.drop { $0.id <= lastEventID }
            let (stream, continuation) = CappedEventStream.make(replay: replay.count)
            for event in replay { continuation.yield(event) }
            if state.status.isFinished {
                continuation.finish()
                return stream
            }
            state.nextSubscriber += 1
            let key = state.nextSubscriber
            // A consumer that leaves is forgotten at the next event (its yield fails):
            // no termination callback, which would take this lock while `append` holds it.
            state.subscribers[key] = continuation
            return stream
        }
    }

    var finishedAt: Date? { state.withLockedValue { $0.finishedAt } }

    /// The job as it stands now.
    var snapshot: JobSnapshot {
        state.withLockedValue { snapshot(of: $0) }
    }

    private func snapshot(of state: State) -> JobSnapshot {
        JobSnapshot(
            id: id, status: state.status, epoch: state.epoch, epochs: epochs, loss: state.loss,
            validationLoss: state.validationLoss, createdAt: createdAt, startedAt: state.startedAt,
            finishedAt: state.finishedAt, result: state.result, error: state.problem?.json,
            resultDropped: state.resultDropped)
    }

    /// The job as GET /train/jobs/{id} shows it; with `full`, its result or problem.
    func json(full: Bool) -> JSONValue { snapshot.json(full: full) }
}
