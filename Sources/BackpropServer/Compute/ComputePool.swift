import BackpropCore
import CBackpropKernels
import Dispatch
import Foundation
import Metrics
import NIOConcurrencyHelpers

/// A bounded pool of threads for CPU-bound work, off the event loops and off the
/// handlers' tasks.
///
/// At most `threads` computations run at once and at most `queue` more wait;
/// beyond that `run` refuses at once with a 429 and `Retry-After`. Each
/// computation gets a `CancellationFlag` that is raised when the awaiting task is
/// cancelled, and that it checks once per batch. A queued computation whose flag is
/// raised leaves the queue at once (`withdraw`), so it never holds a place.
///
/// Its own threads rather than an `NIOThreadPool`, for the per-request cost of a
/// small computation: admitting and queueing are one critical section (not an
/// admission lock and then the thread pool's), a thread is woken by a semaphore
/// (a futex only when a thread is actually parked, where a condition variable's
/// waiter must also retake the mutex on waking), and the /metrics gauges are read
/// from the counts when /metrics is scraped (`recordGauges`) instead of being
/// recorded on every change. A request thus takes three short critical sections:
/// admit and queue, take, finish.
public final class ComputePool: Sendable {
    public let threads: Int
    public let queue: Int

    /// A queued computation; `true` runs it, `false` fails it (the pool stopped first).
    /// It settles the counts (`finish`) before resuming its caller.
    private typealias Job = @Sendable (_ run: Bool) -> Void

    /// The counts and the queue, under one lock.
    private struct State {
        /// Admitted computations: running plus queued; at most `threads + queue`.
        var admitted = 0
        /// Small computations running inline, on their callers' threads; at most `threads + queue`.
        var inline = 0
        var running = 0
        /// Once stopped, nothing is admitted.
        var stopped = false
        /// The queued computations with their flags, first in first out: a ring of
        /// `threads + queue` slots, which admission keeps from overflowing.
        var ring: [(flag: CancellationFlag, job: Job)?]
        var head = 0
        var queued = 0

        mutating func enqueue(_ job: @escaping Job, flag: CancellationFlag) {
            ring[(head + queued) % ring.count] = (flag, job)
            queued += 1
        }

        mutating func dequeue() -> Job? {
            guard queued > 0 else { return nil }
            defer {
                ring[head] = nil
                head = (head + 1) % ring.count
                queued -= 1
            }
            return ring[head]?.job
        }

        /// Takes the computation queued with `flag` out of the queue, keeping the
        /// others' order; nil if it is not queued (running, done, or never queued).
        mutating func remove(_ flag: CancellationFlag) -> Job? {
            guard let offset = (0..<queued).first(where: { ring[(head + $0) % ring.count]?.flag === flag }) else {
                return nil
            }
            let job = ring[(head + offset) % ring.count]?.job
            for index in offset..<(queued - 1) {
                ring[(head + index) % ring.count] = ring[(head + index + 1) % ring.count]
            }
            ring[(head + queued - 1) % ring.count] = nil
            queued -= 1
            return job
        }
    }

    private let state: NIOLockedValueBox<State>
    /// Signalled once per queued computation, and once per thread at shutdown.
    private let jobsReady = DispatchSemaphore(value: 0)
    /// Entered by each thread as it starts, left as it exits.
    private let exited = DispatchGroup()
    private let depthGauge: Gauge
    private let runningGauge: Gauge

    /// `metricsLabel` tells pools apart in /metrics (`backprop_compute_queue_depth{pool=…}`).
    public init(threads: Int, queue: Int, metricsLabel: String = "requests") {
        depthGauge = Gauge(label: "backprop_compute_queue_depth", dimensions: [("pool", metricsLabel)])
        runningGauge = Gauge(label: "backprop_compute_running", dimensions: [("pool", metricsLabel)])
        self.threads = max(1, threads)
        self.queue = max(0, queue)
        state = NIOLockedValueBox(State(ring: Array(repeating: nil, count: self.threads + self.queue)))
        for index in 0..<self.threads {
            exited.enter()
            let name = String("\(metricsLabel)#\(index)".prefix(15))  // Linux keeps 15 bytes of a name
            let started = DispatchSemaphore(value: 0)
            let thread = Thread { [self] in
                // Foundation names only the current thread, and knows which that is once `start` returned.
                started.wait()
                Thread.current.name = name
                Self.lowerPriority()
                serve()
                exited.leave()
            }
            thread.start()
            started.signal()
        }
    }

    /// Runs the calling thread at nice 10 (Linux): computation then takes the cores
    /// only when the event loops and the handlers' tasks leave them, so `/health`,
    /// small requests and socket reads stay prompt while the cores are busy training.
    /// Lowering a thread's own priority needs no privilege.
    static func lowerPriority() {
        _ = bp_set_thread_nice(10)
    }

    /// Computations waiting for a thread.
    public var waiting: Int { state.withLockedValue { $0.admitted - $0.running } }

    /// Records the queue depth and the running count in their /metrics gauges; called
    /// when /metrics is scraped, so the gauges are current without a per-request cost.
    public func recordGauges() {
        let (admitted, running) = state.withLockedValue { ($0.admitted, $0.running) }
        depthGauge.record(admitted - running)
        runningGauge.record(running)
    }

    /// Runs `body` on a pool thread; throws a 429 problem if the pool is full.
    public func run<T: Sendable>(
        cancellation: CancellationFlag = CancellationFlag(),
        _ body: @escaping @Sendable (CancellationFlag) throws -> T
    ) async throws -> T {
        let result = await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Result<T, any Error>, Never>) in
                let job: Job = { [self] run in
                    let result: Result<T, any Error> =
                        if !run || cancellation.isCancelled {
                            .failure(CancellationError())
                        } else {
                            Result { try body(cancellation) }
                        }
                    finish(ran: run)
                    continuation.resume(returning: result)
                }
                if let refusal = submit(job, flag: cancellation) {
                    continuation.resume(returning: .failure(refusal))
                }
            }
        } onCancel: {
            cancellation.cancel()
            withdraw(cancellation)
        }
        return try result.get()
    }

    /// Admits a computation to run later in a batch (`submitAdmitted`): it holds a
    /// place until `release`. Refuses as `run` does (429 when full, 503 once stopped).
    public func admit() throws {
        if let refusal = submit(nil, flag: CancellationFlag()) { throw refusal }
    }

    /// Gives back `count` places taken by `admit`.
    public func release(_ count: Int = 1) { state.withLockedValue { $0.admitted -= count } }

    /// Queues `job` for computations already admitted (`admit`), taking no place: its
    /// submitter holds one for it until it starts (or `withdraw`s it). `job(true)` runs
    /// on a pool thread, `job(false)` at once if the pool stopped or when `withdraw`
    /// takes it out of the queue. It returns the places to give back and what to do
    /// once they are (resume its callers: the counts settle first, as with `run`).
    public func submitAdmitted(
        cancellation: CancellationFlag,
        _ job: @escaping @Sendable (_ run: Bool) -> (release: Int, then: () -> Void)
    ) {
        let wrapped: Job = { [self] run in
            let (count, then) = job(run)
            state.withLockedValue { state in
                if run { state.running -= 1 }
                state.admitted -= count
            }
            then()
        }
        let queued = state.withLockedValue { state -> Bool in
            guard !state.stopped else { return false }
            state.enqueue(wrapped, flag: cancellation)
            return true
        }
        if queued { jobsReady.signal() } else { wrapped(false) }
    }

    /// Takes a queued computation out of the queue once its flag is raised: it fails
    /// with `CancellationError` at once instead of waiting for a thread. Does nothing
    /// if the computation is not queued (a running one stops at its next batch).
    public func withdraw(_ cancellation: CancellationFlag) {
        guard cancellation.isCancelled else { return }
        let job = state.withLockedValue { $0.remove(cancellation) }
        job?(false)
    }

    /// Runs `body` at once on the calling thread: a computation measured to be small
    /// (`Configuration.inlineWork`), for which the hop to a pool thread would cost more
    /// than the work. It is still admitted and counted: at most `threads + queue` run
    /// inline at once, and beyond that (or once stopped) it is refused like `run`.
    public func runInline<T>(_ body: () throws -> T) throws -> T {
        let admitted = state.withLockedValue { state -> Bool? in
            guard !state.stopped else { return nil }
            guard state.inline < threads + queue else { return false }
            state.inline += 1
            return true
        }
        switch admitted {
        case true?: break
        case false?: throw Self.busy(threads: threads, queue: queue)
        case nil: throw Self.stopped
        }
        defer { state.withLockedValue { $0.inline -= 1 } }
        return try body()
    }

    static func busy(threads: Int, queue: Int) -> Problem {
        Problem(
            .tooManyRequests, title: "Server busy",
            detail: "all \(threads) compute threads are busy and \(queue) requests are waiting; retry shortly",
            headers: [.retryAfter: "1"])
    }

    static var stopped: Problem {
        Problem(
            .serviceUnavailable, title: "Shutting down",
            detail: "the service is shutting down and takes no new computations", headers: [.retryAfter: "1"])
    }

    /// Admits and queues `job` (only admits when nil), or says why not (a 503 once
    /// stopped, a 429 when full, a `CancellationError` if its flag is already raised:
    /// `withdraw` may have come first).
    private func submit(_ job: Job?, flag: CancellationFlag) -> (any Error)? {
        let admitted = state.withLockedValue { state -> Bool? in
            guard !state.stopped else { return nil }
            guard !flag.isCancelled else { return false }
            guard state.admitted < threads + queue else { return false }
            state.admitted += 1
            if let job { state.enqueue(job, flag: flag) }
            return true
        }
        switch admitted {
        case true?:
            if job != nil { jobsReady.signal() }
            return nil
        case false?: return flag.isCancelled ? CancellationError() : Self.busy(threads: threads, queue: queue)
        case nil: return Self.stopped
        }
    }

    /// A thread's life: take the next computation and run it, until the pool stops.
    private func serve() {
        while true {
            jobsReady.wait()
            let (job, stopped) = state.withLockedValue { state in
                let job = state.dequeue()
                if job != nil { state.running += 1 }
                return (job, state.stopped)
            }
            if let job {
                job(true)
            } else if stopped {
                return
            }
        }
    }

    /// A computation is over: it no longer counts as running (if it ran) nor as admitted.
    private func finish(ran: Bool) {
        state.withLockedValue { state in
            if ran { state.running -= 1 }
            state.admitted -= 1
        }
    }

    /// Stops the threads once the running work ends; later `run` calls answer 503 and
    /// the computations still queued fail with `CancellationError`.
    public func shutdown() async throws {
        let (queued, first) = state.withLockedValue { state -> ([Job], Bool) in
            let first = !state.stopped
            state.stopped = true
            var queued: [Job] = []
            while let job = state.dequeue() { queued.append(job) }
            return (queued, first)
        }
        for job in queued { job(false) }
        if first {
            for _ in 0..<threads { jobsReady.signal() }
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            exited.notify(queue: .global()) { continuation.resume() }
        }
    }
}
