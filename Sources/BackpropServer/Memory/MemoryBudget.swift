import CBackpropKernels
import Metrics
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle

/// One bound over everything the service holds on behalf of clients: request bodies
/// being received (and computed on), answers not yet written, finished jobs' results,
/// and event-stream buffers. TF Serving, Triton and nginx all bound what they buffer;
/// without this, a crowd of slow clients could take a replica past its memory limit.
///
/// Two ways in:
/// - **Reserving** (`MemoryReservation`): a request body waits for room before a byte
///   of it is read (the socket is not read meanwhile, so a slow sender slows only
///   itself) and gets a 503 if the wait would outlast the request timeout. New work
///   is refused early this way.
/// - **Charging**: what the service already accepted (a computed answer, a finished
///   job's result, an event in flight) is always counted, even past the total: the
///   budget never drops accepted work, it makes new work wait instead.
///
/// `smallReserve` bytes are kept for small requests (a reservation of at most
/// `smallLimit`), so /gradient and /health keep answering during a flood of large
/// uploads: large reservations may use only `total - smallReserve`, small ones use
/// the reserve first, then the rest.
final class MemoryBudget: Service, Sendable {
    /// What the bytes are held for (the `kind` label on /metrics).
    enum Kind: String, Sendable, CaseIterable {
        /// Request bodies being received, and computed on.
        case bodies
        /// Answers not yet written.
        case answers
        /// Finished jobs' results (memory store).
        case results
        /// Event streams' pieces being written.
        case streams
        /// Training jobs' networks and data, queued or running (memory store).
        case jobs
        /// Stored networks (memory store) and parsed stored networks (PostgreSQL's cache).
        case networks
    }

    let total: Int
    let smallReserve: Int
    let smallLimit: Int

    private struct Waiter {
        let id: Int
        let bytes: Int
        let kind: Kind
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        /// Bytes held by kind.
        var held: [Kind: Int] = [:]
        /// Of all held bytes, those in the small requests' reserve.
        var small = 0
        /// Large reservations waiting for room, first come first served.
        var waiters: [Waiter] = []
        var nextWaiter = 0
        /// The most held since the allocator last gave free memory back.
        var peakSinceTrim = 0

        var all: Int { held.values.reduce(0, +) }
    }

    private let state = NIOLockedValueBox(State())

    /// - Parameters:
    ///   - total: the budget in bytes.
    ///   - smallLimit: a reservation up to this size is small (default 256 KiB).
    init(total: Int, smallLimit: Int = 256 * 1024) {
        self.total = max(total, 1)
        self.smallLimit = smallLimit
        // A sixteenth, at least 4 MiB, at most half.
        smallReserve = min(max(total / 16, 4 << 20), total / 2)
    }

    /// Bytes held now, of one kind or of all.
    func held(_ kind: Kind? = nil) -> Int {
        state.withLockedValue { state in kind.map { state.held[$0, default: 0] } ?? state.all }
    }

    /// Bytes held in the small requests' reserve.
    var heldInReserve: Int { state.withLockedValue { $0.small } }

    /// True when large work should not start now: the budget outside the small
    /// reserve is used up.
    var isExhausted: Bool {
        state.withLockedValue { $0.all - $0.small >= total - smallReserve }
    }

    // MARK: Reserving (used by MemoryReservation)

    /// Takes `bytes` now if they fit; returns how many of them came from the small reserve, or nil.
    func tryTake(_ bytes: Int, kind: Kind, small: Bool) -> Int? {
        state.withLockedValue { state in take(bytes, kind: kind, small: small, from: &state) }
    }

    private func take(_ bytes: Int, kind: Kind, small: Bool, from state: inout State) -> Int? {
        if small, state.small + bytes <= smallReserve {
            state.small += bytes
            state.held[kind, default: 0] += bytes
            return bytes
        }
        // Large reservations queue in order: none jumps ahead of an earlier waiter.
        if !small, !state.waiters.isEmpty { return nil }
        guard state.all - state.small + bytes <= total - smallReserve else { return nil }
        state.held[kind, default: 0] += bytes
        state.peakSinceTrim = max(state.peakSinceTrim, state.all)
        return 0
    }

    /// Every 2 s, once what is held has fallen 32 MiB below its peak since the last
    /// time, asks the allocator to give its free pages back: blocks under 1 MiB (an
    /// answer's rows, a body's pieces) otherwise stay in the process after a burst.
    ///
    /// `malloc_trim` walks every arena and may take tens of milliseconds after a burst,
    /// so it runs on NIO's blocking-I/O pool, never on a thread that serves requests;
    /// its time is `backprop_memory_trim_seconds` on /metrics.
    func run() async throws {
        let trimTimer = Metrics.Timer(label: "backprop_memory_trim_seconds")
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: .seconds(2))
                let fallen = self.state.withLockedValue { state -> Bool in
                    defer { state.peakSinceTrim = state.all }
                    return state.peakSinceTrim - state.all >= 32 << 20
                }
                guard fallen else { continue }
                let started = ContinuousClock.now
                try await NIOThreadPool.singleton.runIfActive { _ = bp_release_free_memory() }
                trimTimer.recordMilliseconds((ContinuousClock.now - started).milliseconds)
            }
        }
    }

    /// Waits until `bytes` fit (first come first served) or `deadline` passes (then false).
    func waitToTake(_ bytes: Int, kind: Kind, until deadline: ContinuousClock.Instant) async -> Bool {
        let id = state.withLockedValue { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let timer = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            expire(id)
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let granted = state.withLockedValue { state -> Bool in
                    if state.waiters.isEmpty, take(bytes, kind: kind, small: false, from: &state) != nil { return true }
                    state.waiters.append(Waiter(id: id, bytes: bytes, kind: kind, continuation: continuation))
                    return false
                }
                if granted { continuation.resume(returning: true) }
            }
        } onCancel: {
            expire(id)
        }
    }

    /// A waiter's time is up (or its task was cancelled): it leaves the queue empty-handed.
    private func expire(_ id: Int) {
        let (expired, granted) = state.withLockedValue { state -> (Waiter?, [Waiter]) in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return (nil, []) }
            let waiter = state.waiters.remove(at: index)
            return (waiter, admit(&state))
        }
        expired?.continuation.resume(returning: false)
        for waiter in granted { waiter.continuation.resume(returning: true) }
    }

    /// Gives back bytes (`fromReserve` of them to the small reserve) and admits the waiters that now fit.
    func give(_ bytes: Int, kind: Kind, fromReserve: Int) {
        guard bytes > 0 else { return }
        let granted = state.withLockedValue { state -> [Waiter] in
            state.held[kind, default: 0] -= bytes
            state.small -= fromReserve
            return admit(&state)
        }
        for waiter in granted { waiter.continuation.resume(returning: true) }
    }

    /// The waiters at the head of the queue that fit now, taken out of it with their bytes counted.
    private func admit(_ state: inout State) -> [Waiter] {
        var granted: [Waiter] = []
        while let first = state.waiters.first, state.all - state.small + first.bytes <= total - smallReserve {
            state.waiters.removeFirst()
            state.held[first.kind, default: 0] += first.bytes
            granted.append(first)
        }
        state.peakSinceTrim = max(state.peakSinceTrim, state.all)
        return granted
    }

    /// Replaces a holding (`bytes` of `kind`, `fromReserve` of them in the small reserve)
    /// by `newBytes` of `newKind`, in one step, never refused; returns how many of the
    /// new bytes stay in the small reserve.
    func exchange(_ bytes: Int, kind: Kind, fromReserve: Int, for newBytes: Int, of newKind: Kind) -> Int {
        let kept = min(fromReserve, newBytes)
        let granted = state.withLockedValue { state -> [Waiter] in
            state.held[kind, default: 0] -= bytes
            state.held[newKind, default: 0] += newBytes
            state.small -= fromReserve - kept
            state.peakSinceTrim = max(state.peakSinceTrim, state.all)
            return newBytes < bytes ? admit(&state) : []
        }
        for waiter in granted { waiter.continuation.resume(returning: true) }
        return kept
    }

    /// As `exchange`, but only if the new holding fits the budget outside the small
    /// reserve (with the old one given back); nil, and nothing changed, if not.
    func exchangeIfFits(_ bytes: Int, kind: Kind, fromReserve: Int, for newBytes: Int, of newKind: Kind) -> Int? {
        let kept = min(fromReserve, newBytes)
        let fits = state.withLockedValue { state -> Bool in
            let general = state.all - state.small - (bytes - fromReserve) + (newBytes - kept)
            guard general <= total - smallReserve else { return false }
            state.held[kind, default: 0] -= bytes
            state.held[newKind, default: 0] += newBytes
            state.small -= fromReserve - kept
            state.peakSinceTrim = max(state.peakSinceTrim, state.all)
            return true
        }
        return fits ? kept : nil
    }

    // MARK: Charging

    /// Counts bytes the service already holds; never refused, may pass the total.
    func charge(_ bytes: Int, kind: Kind) {
        guard bytes != 0 else { return }
        state.withLockedValue { state in
            state.held[kind, default: 0] += bytes
            state.peakSinceTrim = max(state.peakSinceTrim, state.all)
        }
    }

    /// Stops counting bytes charged with `charge` (they were freed).
    func discharge(_ bytes: Int, kind: Kind) {
        give(bytes, kind: kind, fromReserve: 0)
    }

    /// Sets `backprop_memory_budget_bytes` and `backprop_memory_held_bytes{kind=…}` (when /metrics is read).
    func recordMetrics() {
        let (held, waiting) = state.withLockedValue { ($0.held, $0.waiters.count) }
        Gauge(label: "backprop_memory_budget_bytes").record(total)
        Gauge(label: "backprop_memory_small_reserve_bytes").record(smallReserve)
        for kind in Kind.allCases {
            Gauge(label: "backprop_memory_held_bytes", dimensions: [("kind", kind.rawValue)]).record(held[kind, default: 0])
        }
        Gauge(label: "backprop_memory_waiting_bodies").record(waiting)
    }
}
