import BackpropCore
import Testing

@testable import BackpropServer

@Suite struct JobEventTests {
    /// Progress events: at every history point, otherwise at most one per ~100 ms.
    @Test func progressEventsAreThrottledButKeepHistoryPoints() async throws {
        let job = Job(id: "0000000000000001", epochs: 100_000)
        for epoch in 1...20_000 {
            job.record(EpochProgress(epoch: epoch, epochs: 100_000, loss: 1, validationLoss: nil, isHistoryPoint: epoch % 1000 == 0))
        }
        job.finish(.cancelled, reason: "test")
        var events: [JobEvent] = []
        for await item in job.events(after: 0) { if case .event(let event) = item { events.append(event) } }
        let progress = events.filter { $0.kind == .progress }
        let points = progress.filter { event in
            guard case .object(let fields) = event.data, case .unsigned(let epoch)? = fields.first(where: { $0.key == "epoch" })?.value else { return false }
            return epoch % 1000 == 0
        }
        #expect(points.count == 20)
        // 20,000 records take far less than a second: at most a few timed events besides the points.
        #expect(progress.count - points.count <= 10)
        #expect(events.last?.kind == .cancelled)
        #expect(events.map(\.id) == Array(1...events.count))
    }
}
