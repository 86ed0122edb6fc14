import BackpropCore
import BackpropServer
import Dispatch
import NIOConcurrencyHelpers
import Testing

/// The pool's queue: a computation whose flag is raised leaves it at once, the others
/// keep their order, and its place is free for the next.
@Suite(.timeLimit(.minutes(1))) struct ComputePoolTests {
    /// Occupies the pool's one thread until `release` is signalled; returns once it runs.
    private static func occupy(_ pool: ComputePool, release: DispatchSemaphore) async -> Task<Int, any Error> {
        let started = DispatchSemaphore(value: 0)
        let blocker = Task { try await pool.run { _ in started.signal(); release.wait(); return 0 } }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { started.wait(); continuation.resume() }
        }
        return blocker
    }

    @Test func aWithdrawnComputationLeavesTheQueueAtOnceAndFreesItsPlace() async throws {
        let pool = ComputePool(threads: 1, queue: 2)
        let release = DispatchSemaphore(value: 0)
        let blocker = await Self.occupy(pool, release: release)
        let order = NIOLockedValueBox([Int]())
        let first = CancellationFlag(), second = CancellationFlag(), third = CancellationFlag()
        let a = Task { try await pool.run(cancellation: first) { _ in order.withLockedValue { $0.append(1) }; return 1 } }
        let b = Task { try await pool.run(cancellation: second) { _ in order.withLockedValue { $0.append(2) }; return 2 } }
        while pool.waiting < 2 { await Task.yield() }
        // Full: one running, two queued.
        await #expect(throws: Problem.self) { try await pool.run { _ in 0 } }

        first.cancel()
        pool.withdraw(first)
        await #expect(throws: CancellationError.self) { try await a.value }
        #expect(pool.waiting == 1)
        // Its place is free while the thread is still busy.
        let c = Task { try await pool.run(cancellation: third) { _ in order.withLockedValue { $0.append(3) }; return 3 } }
        while pool.waiting < 2 { await Task.yield() }

        release.signal()
        #expect(try await blocker.value == 0)
        #expect(try await b.value == 2)
        #expect(try await c.value == 3)
        #expect(order.withLockedValue { $0 } == [2, 3])
        try await pool.shutdown()
    }

    @Test func cancellingTheAwaitingTaskWithdrawsAQueuedComputation() async throws {
        let pool = ComputePool(threads: 1, queue: 1)
        let release = DispatchSemaphore(value: 0)
        let blocker = await Self.occupy(pool, release: release)
        let ran = NIOLockedValueBox(false)
        let queued = Task { try await pool.run { _ in ran.withLockedValue { $0 = true }; return 1 } }
        while pool.waiting < 1 { await Task.yield() }
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        #expect(pool.waiting == 0)
        release.signal()
        #expect(try await blocker.value == 0)
        #expect(try await pool.run { _ in 7 } == 7)
        #expect(ran.withLockedValue { $0 } == false)
        try await pool.shutdown()
    }

    @Test func aComputationWhoseFlagIsAlreadyRaisedIsNotQueued() async throws {
        let pool = ComputePool(threads: 1, queue: 1)
        let flag = CancellationFlag()
        flag.cancel()
        await #expect(throws: CancellationError.self) { try await pool.run(cancellation: flag) { _ in 1 } }
        #expect(pool.waiting == 0)
        try await pool.shutdown()
    }
}
