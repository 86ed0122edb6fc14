@testable import BackpropClient
import OpenAPIRuntime
import Testing

/// The event sequence's reconnection, against scripted streams: what the server sends
/// when it ends a stream early (`retry:`), which a live test cannot make happen on cue.
@Suite struct JobEventStreamTests {
    static let progress1 = "id: 1\nevent: progress\ndata: {\"epoch\":1,\"epochs\":2,\"loss\":0.5}\n\n"
    static let progress2 = "id: 2\nevent: progress\ndata: {\"epoch\":2,\"epochs\":2,\"loss\":0.25}\n\n"
    static let cancelled = "id: 3\nevent: cancelled\ndata: {\"epoch\":2,\"reason\":\"cancelled\"}\n\n"

    /// A stream whose n-th opening sends `bodies[n]`; records the `Last-Event-ID` of each.
    static func scripted(_ bodies: [String], after: Int? = nil, maxReconnects: Int = 5) -> (JobEventStream, Locked<[Int?]>) {
        let openings = Locked<[Int?]>([])
        let stream = JobEventStream(jobID: "0123456789abcdef", lastEventID: after, maxReconnects: maxReconnects) { after in
            let index = openings.withLock { $0.append(after); return $0.count - 1 }
            return HTTPBody(index < bodies.count ? bodies[index] : "")
        }
        return (stream, openings)
    }

    @Test func anEarlyEndWithRetryResumesAfterTheLastEvent() async throws {
        let (stream, openings) = Self.scripted([Self.progress1 + "retry: 5\n\n", Self.progress2 + Self.cancelled])
        var events: [JobEvent] = []
        for try await event in stream { events.append(event) }
        #expect(events.map(\.id) == [1, 2, 3])
        #expect(events[1].kind == .progress(.init(epoch: 2, epochs: 2, loss: 0.25)))
        #expect(events[2].kind == .cancelled(.init(epoch: 2, reason: .cancelled)))
        #expect(openings.withLock { $0 } == [nil, 1])
    }

    @Test func aStreamThatEndsWithoutRetryEndsTheSequence() async throws {
        let (stream, openings) = Self.scripted([Self.progress2], after: 1)
        var events: [JobEvent] = []
        for try await event in stream { events.append(event) }
        #expect(events.map(\.id) == [2])
        #expect(openings.withLock { $0 } == [1])
    }

    @Test func reconnectionsWithoutAnEventGiveUp() async throws {
        let (stream, openings) = Self.scripted(
            [Self.progress1 + "retry: 0\n\n", "retry: 0\n\n", "retry: 0\n\n", "retry: 0\n\n"], maxReconnects: 2
        )
        var events: [JobEvent] = []
        await #expect(throws: BackpropClientError.eventStreamEnded(jobID: "0123456789abcdef", lastEventID: 1)) {
            for try await event in stream { events.append(event) }
        }
        #expect(events.map(\.id) == [1])
        #expect(openings.withLock { $0 } == [nil, 1, 1])
    }

    @Test func anUnknownEventIsAnError() async throws {
        let (stream, _) = Self.scripted(["id: 1\nevent: paused\ndata: {}\n\n"])
        await #expect(throws: BackpropClientError.self) {
            for try await _ in stream {}
        }
    }
}
