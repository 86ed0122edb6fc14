import BackpropServer
import BackpropTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct JobLoadTests {
    static let short = """
        {"network": {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 3},
         "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0], "epochs": 50, "seed": 3}
        """

    /// Hundreds of concurrent creates, gets, cancels and lists, with gradients on the
    /// side: every job created is found, ends in a final state, and none is lost.
    @Test func concurrentCreateGetCancelList() async throws {
        let app = buildApplication(testConfiguration { $0.jobQueue = 1000; $0.jobsKept = 1000; $0.computeQueue = 1000 })
        try await app.test(.router) { client in
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        switch index % 4 {
                        case 0, 1:
                            let response = try await client.post("/train/jobs", Self.short)
                            #expect(response.status == .accepted)
                            let id = try #require(try JSONBody(response)["id"]?.string)
                            let fetched = try await client.execute(uri: "/train/jobs/\(id)", method: .get)
                            #expect(fetched.status == .ok)
                            if index % 8 == 1 {
                                let cancelled = try await client.execute(uri: "/train/jobs/\(id)", method: .delete)
                                #expect(cancelled.status == .ok)
                            }
                            return id
                        case 2:
                            let list = try await client.execute(uri: "/train/jobs", method: .get)
                            #expect(list.status == .ok)
                            return nil
                        default:
                            let response = try await client.post("/gradient", SeedRequests.hiddenLayer)
                            #expect(response.status == .ok)
                            return nil
                        }
                    }
                }
                var ids: [String] = []
                for try await id in group { if let id { ids.append(id) } }
                return ids
            }
            #expect(ids.count == 150)
            #expect(Set(ids).count == 150)
            var finished: [String: String] = [:]
            let deadline = ContinuousClock.now + .seconds(120)
            while finished.count < ids.count, ContinuousClock.now < deadline {
                for id in ids where finished[id] == nil {
                    let status = try JSONBody(try await client.execute(uri: "/train/jobs/\(id)", method: .get))["status"]?.string
                    if let status, ["succeeded", "cancelled"].contains(status) { finished[id] = status }
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(finished.count == 150)
            #expect(finished.values.filter { $0 == "succeeded" }.count >= 150 - 38)
            let list = try JSONBody(try await client.execute(uri: "/train/jobs", method: .get))
            let listed = Set((0..<(list["jobs"]?.count ?? 0)).compactMap { list["jobs"]?[$0]?["id"]?.string })
            #expect(listed == Set(ids))
        }
    }
}

@Suite struct EventStreamSocketTests {
    static let long = JobTests.long

    /// Over a real socket, as a browser's EventSource reads it: events arrive while the
    /// job runs, and a reconnect with Last-Event-ID resumes at the next id.
    @Test func liveStreamAndReconnect() async throws {
        try await buildApplication(testConfiguration()).test(.live) { client in
            let port = try #require(client.port)
            let id = try #require(try JSONBody(try await client.post("/train/jobs", Self.long))["id"]?.string)
            let first = try RawConnection(port: port)
            try first.send("GET /train/jobs/\(id)/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            let start = ContinuousClock.now
            let text = await first.read(until: "id: 4\n")
            let elapsed = ContinuousClock.now - start
            first.close()
            #expect(text.contains("HTTP/1.1 200"))
            let ids = text.matches(of: /id: (\d+)\n/).compactMap { Int($0.1) }
            #expect(Array(ids.prefix(4)) == [1, 2, 3, 4])
            // Events come as the job runs: 4 of them long before its hours of epochs end.
            #expect(elapsed < .seconds(30))
            #expect(!text.contains("event: done"))
            let second = try RawConnection(port: port)
            try second.send(
                "GET /train/jobs/\(id)/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nLast-Event-ID: 4\r\n\r\n")
            let resumed = await second.read(until: "id: 6\n")
            second.close()
            let resumedIDs = resumed.matches(of: /id: (\d+)\n/).compactMap { Int($0.1) }
            #expect(resumedIDs.first == 5)
            #expect(resumedIDs == Array(5..<(5 + resumedIDs.count)))
            let cancelled = try await client.execute(uri: "/train/jobs/\(id)", method: .delete)
            #expect(cancelled.status == .ok)
        }
    }
}
