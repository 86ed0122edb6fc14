import NIOConcurrencyHelpers

/// How many things are in progress (a store's jobs, from submission or claim to their
/// end), and a way to await the moment there are none: shutdown awaits completion
/// instead of polling.
final class ActivityCount: Sendable {
    private struct State {
        var active = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        /// Waits in progress, and those whose deadline passed before they were registered.
        var pending: Set<Int> = []
        var expired: Set<Int> = []
        var nextWaiter = 0
    }

    private let state = NIOLockedValueBox(State())

    var active: Int { state.withLockedValue { $0.active } }

    func enter() {
        state.withLockedValue { $0.active += 1 }
    }

    /// One thing ended; when none is left, every waiter resumes.
    func leave() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.active -= 1
            guard state.active == 0 else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns true once nothing is in progress, or false at `deadline` if something still is.
    @discardableResult
    func waitUntilIdle(deadline: ContinuousClock.Instant? = nil) async -> Bool {
        let id = state.withLockedValue { state -> Int? in
            guard state.active > 0 else { return nil }
            state.nextWaiter += 1
            state.pending.insert(state.nextWaiter)
            return state.nextWaiter
        }
        guard let id else { return true }
        let timer = deadline.map { deadline in
            Task {
                do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return }
                expire(id)
            }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { state -> Bool in
                if state.active == 0 || state.expired.remove(id) != nil { return true }
                state.waiters[id] = continuation
                return false
            }
            if now { continuation.resume() }
        }
        timer?.cancel()
        return state.withLockedValue { state in
            state.pending.remove(id)
            state.expired.remove(id)
            return state.active == 0
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            if state.pending.contains(id) { state.expired.insert(id) }
            return nil
        }
        waiter?.resume()
    }
}
