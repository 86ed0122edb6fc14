import BackpropClient
import Foundation
import Testing

/// Training jobs through the client: submitted, followed through their event stream,
/// resumed with Last-Event-ID, cancelled.
@Suite struct JobClientTests {
    @Test func jobIsFollowedToDoneThroughItsEvents() async throws {
        try await withLiveClient { api in
            let job = try await api.submitJob(Examples.xorJob)
            #expect(job.id.count == 16)
            #expect(job.progress.epochs == 2000)
            #expect(job.result == nil)

            var events: [JobEvent] = []
            for try await event in api.events(of: job.id) { events.append(event) }
            #expect(events.map(\.id) == Array(1...events.count), "ids count from 1 without a gap")
            let progress = events.compactMap { if case let .progress(value) = $0.kind { value } else { nil } }
            #expect(progress.count == events.count - 1)
            #expect(progress.map(\.epoch) == progress.map(\.epoch).sorted())
            #expect(progress.allSatisfy { $0.epochs == 2000 })
            guard case let .done(result)? = events.last?.kind else {
                Issue.record("the last event is not done: \(String(describing: events.last))")
                return
            }
            #expect(result.epochsRun == 2000)
            #expect(result.stopped == .completed)
            #expect(result.seed == 7)
            #expect(progress.last?.epoch == 2000)
            #expect(progress.last?.loss == result.loss)

            // The job's result is the done event's data, and the same training through
            // POST /train gives the same network, loss and history.
            let finished = try await api.job(job.id)
            #expect(finished.status == .succeeded)
            #expect(finished.startedAt != nil && finished.finishedAt != nil)
            #expect(try await api.jobResult(job.id) == result)
            let direct = try await api.train(Examples.xorJob)
            #expect(direct.network == result.network)
            #expect(direct.loss == result.loss)
            #expect(direct.history == result.history)
            let listed = try await api.jobs()
            #expect(listed.map(\.id).contains(job.id))
            #expect(listed.allSatisfy { $0.result == nil })

            // Resuming after an event sends the rest, nothing repeated or missed.
            let resumeAfter = events.count - 3
            var rest: [JobEvent] = []
            for try await event in api.events(of: job.id, after: resumeAfter) { rest.append(event) }
            #expect(rest == Array(events[resumeAfter...]))
            var none: [JobEvent] = []
            for try await event in api.events(of: job.id, after: events.count) { none.append(event) }
            #expect(none.isEmpty)
        }
    }

    @Test func trainAsJobReturnsTheResult() async throws {
        try await withLiveClient { api in
            let progressCount = Locked(0)
            let result = try await api.trainAsJob(Examples.xorJob) { _ in progressCount.withLock { $0 += 1 } }
            #expect(result.epochsRun == 2000)
            #expect(progressCount.withLock { $0 } > 0)
            #expect(result.network == (try await api.train(Examples.xorJob)).network)
        }
    }

    @Test func streamedTrainEndsWithTheResult() async throws {
        try await withLiveClient { api in
            var events: [JobEvent] = []
            for try await event in api.trainStreamingEvents(Examples.xorJob) { events.append(event) }
            #expect(events.map(\.id) == Array(1...events.count))
            #expect(events.dropLast().allSatisfy { !$0.isLast })
            guard case let .done(result)? = events.last?.kind else {
                Issue.record("the last event is not done: \(String(describing: events.last))")
                return
            }
            let direct = try await api.train(Examples.xorJob)
            #expect(result.network == direct.network)
            #expect(result.history == direct.history)
            // The streamed training was a job like any other.
            #expect(try await api.jobs().count == 1)
        }
    }

    @Test func idempotencyKeyStartsOneJob() async throws {
        try await withLiveClient { api in
            let first = try await api.submitJob(Examples.xorJob, idempotencyKey: "client-test-1")
            let again = try await api.submitJob(Examples.xorJob, idempotencyKey: "client-test-1")
            #expect(again.id == first.id)
            #expect(try await api.jobs().map(\.id) == [first.id])
            var other = Examples.xorJob
            other.epochs = 10
            let reused = try #require(await problem { try await api.submitJob(other, idempotencyKey: "client-test-1") })
            #expect(reused.status == 422)
            #expect(reused.title == "Idempotency key reused")
        }
    }

    @Test func runningJobIsCancelled() async throws {
        try await withLiveClient { api in
            let job = try await api.submitJob(Examples.long)
            var sawProgress = false
            var last: JobEvent?
            for try await event in api.events(of: job.id) {
                if case .progress = event.kind, !sawProgress {
                    sawProgress = true
                    let answer = try await api.cancelJob(job.id)
                    #expect(answer.id == job.id)
                    #expect([.running, .cancelled].contains(answer.status))
                }
                last = event
            }
            #expect(sawProgress)
            guard case let .cancelled(cancellation)? = last?.kind else {
                Issue.record("the last event is not cancelled: \(String(describing: last))")
                return
            }
            #expect(cancellation.reason == .cancelled)
            #expect(cancellation.epoch > 0 && cancellation.epoch < 100_000_000)
            let cancelled = try await api.job(job.id)
            #expect(cancelled.status == .cancelled)
            #expect(cancelled.result == nil)
            await #expect(throws: BackpropClientError.noResult(jobID: job.id, status: "cancelled")) {
                try await api.jobResult(job.id)
            }
        }
    }
}
