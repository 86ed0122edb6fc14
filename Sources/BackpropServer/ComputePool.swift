import BackpropCore
import Metrics
import NIOConcurrencyHelpers
import NIOPosix
import ServiceLifecycle

/// A bounded pool of threads for CPU-bound work, off the event loops and off the
/// handlers' tasks.
///
/// At most `threads` computations run at once and at most `queue` more wait;
/// beyond that `run` refuses at once with a 429 and `Retry-After`. Each
/// computation gets a `CancellationFlag` that is raised when the awaiting task is
/// cancelled, and that it checks once per batch.
public final class ComputePool: Sendable {
    public let threads: Int
    public let queue: Int
    private let pool: NIOThreadPool
    /// admitted counts the running and the waiting; once stopped, nothing is admitted.
    private let counts = NIOLockedValueBox((admitted: 0, running: 0, stopped: false))
    private let depthGauge: Gauge
    private let runningGauge: Gauge

    /// `metricsLabel` tells pools apart in /metrics (`backprop_compute_queue_depth{pool=…}`).
    public init(threads: Int, queue: Int, metricsLabel: String = "requests") {
        depthGauge = Gauge(label: "backprop_compute_queue_depth", dimensions: [("pool", metricsLabel)])
        runningGauge = Gauge(label: "backprop_compute_running", dimensions: [("pool", metricsLabel)])
        self.threads = max(1, threads)
        self.queue = max(0, queue)
        pool = NIOThreadPool(numberOfThreads: self.threads)
        pool.start()
    }

    /// Computations waiting for a thread.
    public var waiting: Int { counts.withLockedValue { $0.admitted - $0.running } }

    /// Runs `body` on a pool thread; throws a 429 problem if the pool is full.
    public func run<T: Sendable>(
        cancellation: CancellationFlag = CancellationFlag(),
        _ body: @escaping @Sendable (CancellationFlag) throws -> T
    ) async throws -> T {
        let (admitted, stopped) = counts.withLockedValue { counts in
            guard !counts.stopped, counts.admitted < threads + queue else { return (false, counts.stopped) }
            counts.admitted += 1
            return (true, false)
        }
        if stopped {
            throw Problem(
                .serviceUnavailable, title: "Shutting down",
                detail: "the service is shutting down and takes no new computations", headers: [.retryAfter: "1"])
        }
        guard admitted else {
            throw Problem(
                .tooManyRequests, title: "Server busy",
                detail: "all \(threads) compute threads are busy and \(queue) requests are waiting; retry shortly",
                headers: [.retryAfter: "1"])
        }
        report()
        defer {
            counts.withLockedValue { $0.admitted -= 1 }
            report()
        }
        return try await compute(body, cancellation: cancellation)
    }

    private func compute<T: Sendable>(
        _ body: @escaping @Sendable (CancellationFlag) throws -> T, cancellation: CancellationFlag
    ) async throws -> T {
        try await withTaskCancellationHandler {
            try await pool.runIfActive { [self] in
                counts.withLockedValue { $0.running += 1 }
                report()
                defer {
                    counts.withLockedValue { $0.running -= 1 }
                    report()
                }
                if cancellation.isCancelled { throw CancellationError() }
                return try body(cancellation)
            }
        } onCancel: {
            cancellation.cancel()
        }
    }

    private func report() {
        let (admitted, running) = counts.withLockedValue { ($0.admitted, $0.running) }
        depthGauge.record(admitted - running)
        runningGauge.record(running)
    }

    /// Stops the threads once the running work ends; later `run` calls answer 503.
    public func shutdown() async throws {
        counts.withLockedValue { $0.stopped = true }
        try await pool.shutdownGracefully()
    }
}

/// Keeps the pool's threads for the life of the application and stops them
/// after the server has drained (services shut down in reverse order).
struct ComputePoolService: Service {
    let pool: ComputePool

    func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdown()
    }
}
