@testable import BackpropServer
import Testing

/// Shutdown's wait for jobs: it returns when the last one ends, or false at its deadline.
@Suite struct ActivityCountTests {
    @Test func idleAtOnceWhenNothingRuns() async {
        let count = ActivityCount()
        #expect(await count.waitUntilIdle(deadline: .now + .seconds(5)))
        #expect(count.active == 0)
    }

    @Test func theDeadlinePassesWhileSomethingRuns() async {
        let count = ActivityCount()
        count.enter()
        let start = ContinuousClock.now
        #expect(await count.waitUntilIdle(deadline: .now + .milliseconds(100)) == false)
        let waited = ContinuousClock.now - start
        // The timer runs on the shared cooperative pool, which a busy test run can hold for seconds.
        #expect(waited >= .milliseconds(100) && waited < .seconds(60))
        #expect(count.active == 1)
    }

    @Test func everyWaiterResumesWhenTheLastOneLeaves() async {
        let count = ActivityCount()
        count.enter()
        count.enter()
        async let first = count.waitUntilIdle()
        async let second = count.waitUntilIdle(deadline: .now + .seconds(600))
        try? await Task.sleep(for: .milliseconds(50))
        count.leave()
        try? await Task.sleep(for: .milliseconds(50))
        #expect(count.active == 1)
        count.leave()
        let start = ContinuousClock.now
        #expect(await first)
        #expect(await second)
        #expect(ContinuousClock.now - start < .seconds(120), "woken by the leave, not the deadline")
    }
}
