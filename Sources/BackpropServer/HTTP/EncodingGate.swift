import NIOConcurrencyHelpers
import NIOCore

/// How many streamed answers may encode at once on the threads that serve requests.
///
/// A streamed answer (a large result, a job's `done` event) is encoded on its
/// handler's task, a piece at a time, between writes. A hundred of them starting at
/// once (clients opening event streams on finished jobs with large results) would
/// each encode until its socket was full, taking every thread of the task pool for
/// a third of a second, and a `/health` or a small `/gradient` would wait behind
/// them (memory.py, stalled-streams). Encoding a piece therefore takes a pass
/// (`enter`), given back before the piece is written (`leave`). With one core fewer
/// passes than cores, a thread is always left for requests; the streams share the
/// rest in turn, in the order they asked.
final class EncodingGate: Sendable {
    private struct State {
        var free: Int
        var waiting = CircularBuffer<CheckedContinuation<Void, Never>>()
    }

    private let state: NIOLockedValueBox<State>

    /// A gate with `passes` passes (at least one).
    init(passes: Int) {
        state = NIOLockedValueBox(State(free: max(passes, 1)))
    }

    /// One core fewer passes than cores, at least one.
    static func forCores(_ cores: Int) -> EncodingGate { EncodingGate(passes: cores - 1) }

    /// Waits for a pass. Every `enter` is followed by one `leave`, after at most one
    /// piece of encoding, so a wait is never longer than the pieces ahead of it.
    func enter() async {
        let passed = state.withLockedValue { state -> Bool in
            guard state.free > 0, state.waiting.isEmpty else { return false }
            state.free -= 1
            return true
        }
        if passed { return }
        await withCheckedContinuation { continuation in
            let now = state.withLockedValue { state -> Bool in
                // A pass may have been given back since the check above.
                if state.free > 0, state.waiting.isEmpty {
                    state.free -= 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Gives the pass back: to the longest waiter, else to the gate.
    func leave() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard let next = state.waiting.popFirst() else {
                state.free += 1
                return nil
            }
            return next
        }
        next?.resume()
    }

    /// Passes now free (for tests).
    var free: Int { state.withLockedValue { $0.free } }
}
