import BackpropServer
import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Stored networks over HTTP, with the memory store: the routes, references from
/// /forward, /gradient and /train, `save_as`, ETags and preconditions.
@Suite struct NetworkStoreHTTPTests {
    static let generated = #"{"inputs": 2, "layers": [{"units": 3, "activation": "tanh"}, {"units": 1}], "seed": 7}"#
    static let data = #""inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0], "epochs": 50, "learning_rate": 0.5, "seed": 3"#

    static func put(_ client: some TestClientProtocol, _ name: String, _ body: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await client.execute(uri: "/networks/\(name)", method: .put, headers: headers, body: ByteBuffer(string: body))
    }

    @Test func storeThenComputeByNameAsInline() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let created = try await Self.put(client, "xor", Self.generated)
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/networks/xor/versions/1")
            let etag = try #require(created.headers[.eTag])
            let summary = try JSONBody(created)
            #expect(summary["version"]?.number == 1)
            #expect(summary["etag"]?.string == etag)
            #expect(summary["seed"]?.number == 7)
            #expect(summary["parameters"]?.number == 13)
            // The stored network is the one the seed generates inline.
            let stored = try JSONBody(try await client.execute(uri: "/networks/xor", method: .get))
            #expect(stored["versions"]?.numbers == [1])
            let inline = try JSONBody(try await client.post("/forward", #"{"network": \#(Self.generated), "input": [[0, 1], [1, 1]]}"#))
            #expect(stored["network"]?["layers"]?[0]?["weights"]?.matrix == inline["network"]?["layers"]?[0]?["weights"]?.matrix)
            let byName = try await client.post("/forward", #"{"network": {"name": "xor"}, "input": [[0, 1], [1, 1]]}"#)
            #expect(byName.status == .ok)
            let forward = try JSONBody(byName)
            #expect(forward["output"]?.numbers == inline["output"]?.numbers)
            #expect(forward["output"]?.count == 2)
            #expect(forward["stored_network"]?["name"]?.string == "xor")
            #expect(forward["stored_network"]?["version"]?.number == 1)
            #expect(forward["seed"] == nil)
            let gradientInline = try JSONBody(try await client.post(
                "/gradient", #"{"network": \#(Self.generated), "input": [0, 1], "target": 1}"#))
            let gradient = try JSONBody(try await client.post(
                "/gradient", #"{"network": {"name": "xor", "version": 1}, "input": [0, 1], "target": 1}"#))
            #expect(gradient["layers"]?[0]?["weight_gradient"]?.matrix == gradientInline["layers"]?[0]?["weight_gradient"]?.matrix)
            #expect(gradient["loss"]?.number == gradientInline["loss"]?.number)
            #expect(gradient["stored_network"]?["version"]?.number == 1)
        }
    }

    @Test func trainSaveAsThenContinueByName() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let trained = try await client.post("/train", #"{"network": \#(Self.generated), \#(Self.data), "save_as": "xor"}"#)
            #expect(trained.status == .ok)
            let first = try JSONBody(trained)
            #expect(first["saved_as"]?["name"]?.string == "xor")
            #expect(first["saved_as"]?["version"]?.number == 1)
            let etag = try #require(first["saved_as"]?["etag"]?.string)
            // Continuing by name is /train on the stored network, stored as version 2.
            let expected = try JSONBody(try await client.post(
                "/train", #"{"network": {"name": "xor"}, \#(Self.data)}"#))
            #expect(expected["stored_network"]?["version"]?.number == 1)
            let continued = try await client.execute(
                uri: "/networks/xor/train", method: .post, headers: [.ifMatch: etag], body: ByteBuffer(string: "{\(Self.data)}"))
            #expect(continued.status == .ok)
            let second = try JSONBody(continued)
            #expect(second["saved_as"]?["version"]?.number == 2)
            #expect(second["network"]?["layers"]?[0]?["weights"]?.matrix == expected["network"]?["layers"]?[0]?["weights"]?.matrix)
            #expect(second["loss"]?.number == expected["loss"]?.number)
            // A writer still holding version 1's ETag is refused, before training.
            let stale = try await client.execute(
                uri: "/networks/xor/train", method: .post, headers: [.ifMatch: etag], body: ByteBuffer(string: "{\(Self.data)}"))
            #expect(stale.status == .preconditionFailed)
            #expect(stale.headers[.contentType] == "application/problem+json")
            // A bad body is its 400 whatever the precondition.
            let badBody = try await client.execute(
                uri: "/networks/xor/train", method: .post, headers: [.ifMatch: etag], body: ByteBuffer(string: #"{"inputs": "x", "targets": [0]}"#))
            #expect(badBody.status == .badRequest)
            let latest = try JSONBody(try await client.execute(uri: "/networks/xor", method: .get))
            #expect(latest["version"]?.number == 2)
            #expect(latest["versions"]?.numbers == [1, 2])
            let missing = try await client.post("/networks/nothing/train", "{\(Self.data)}")
            #expect(missing.status == .notFound)
            #expect(try JSONBody(missing)["pointer"] == nil)
            let refused = try await client.post("/networks/xor/train", #"{"network": {"name": "xor"}, \#(Self.data)}"#)
            #expect(refused.status == .badRequest)
            #expect(try JSONBody(refused)["pointer"]?.string == "/network")
        }
    }

    @Test func versionsPreconditionsAndDeletion() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let one = try #require(try await Self.put(client, "net-1", Self.generated).headers[.eTag])
            #expect(try await Self.put(client, "net-1", Self.generated, headers: [.ifNoneMatch: "*"]).status == .preconditionFailed)
            let two = try await Self.put(client, "net-1", #"{"layers": [{"weights": [[1], [2]], "activation": "linear"}]}"#, headers: [.ifMatch: one])
            #expect(two.status == .created)
            let twoTag = try #require(two.headers[.eTag])
            #expect(twoTag != one)
            let lost = try await Self.put(client, "net-1", Self.generated, headers: [.ifMatch: one])
            #expect(lost.status == .preconditionFailed)
            #expect(try JSONBody(lost)["detail"]?.string?.contains(twoTag) == true)
            let version1 = try await client.execute(uri: "/networks/net-1/versions/1", method: .get)
            #expect(version1.status == .ok)
            #expect(version1.headers[.eTag] == one)
            let notModified = try await client.execute(uri: "/networks/net-1", method: .get, headers: [.ifNoneMatch: twoTag])
            #expect(notModified.status == .notModified)
            let badPretty = try await client.execute(uri: "/networks/net-1?pretty=2", method: .get, headers: [.ifNoneMatch: "*"])
            #expect(badPretty.status == .badRequest)
            let forward = try JSONBody(try await client.post("/forward", #"{"network": {"name": "net-1"}, "input": [3, 4]}"#))
            #expect(forward["output"]?.numbers == [11])
            #expect(forward["stored_network"]?["version"]?.number == 2)
            let list = try JSONBody(try await client.execute(uri: "/networks", method: .get))
            #expect(list["networks"]?.count == 1)
            #expect(list["networks"]?[0]?["version"]?.number == 2)
            #expect(try await client.execute(uri: "/networks/net-1/versions/1", method: .delete).status == .noContent)
            #expect(try await client.execute(uri: "/networks/net-1/versions/1", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/networks/net-1", method: .delete, headers: [.ifMatch: one]).status == .preconditionFailed)
            #expect(try await client.execute(uri: "/networks/net-1", method: .delete, headers: [.ifMatch: twoTag]).status == .noContent)
            #expect(try await client.execute(uri: "/networks/net-1", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/networks/net-1", method: .delete).status == .notFound)
        }
    }

    @Test func badNamesAndReferences() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            #expect(try await Self.put(client, "-bad", Self.generated).status == .badRequest)
            #expect(try await Self.put(client, String(repeating: "a", count: 65), Self.generated).status == .badRequest)
            #expect(try await client.execute(uri: "/networks/x/versions/0", method: .get).status == .badRequest)
            let unknown = try await client.post("/forward", #"{"network": {"name": "nope"}, "input": [1, 2]}"#)
            #expect(unknown.status == .notFound)
            #expect(try JSONBody(unknown)["pointer"]?.string == "/network/name")
            #expect(try JSONBody(unknown)["title"]?.string == "No such network")
            let extra = try await client.post("/forward", #"{"network": {"name": "nope", "layers": []}, "input": [1, 2]}"#)
            #expect(extra.status == .badRequest)
            #expect(try JSONBody(extra)["pointer"]?.string == "/network/layers")
            let badName = try await client.post("/gradient", #"{"network": {"name": "a b"}, "input": [1, 2], "target": 1}"#)
            #expect(badName.status == .badRequest)
            #expect(try JSONBody(badName)["pointer"]?.string == "/network/name")
            let reference = try await Self.put(client, "ref", #"{"name": "other"}"#)
            #expect(reference.status == .unprocessableContent)
            let badSave = try await client.post("/train", #"{"network": \#(Self.generated), \#(Self.data), "save_as": "no/slash"}"#)
            #expect(badSave.status == .badRequest)
            #expect(try JSONBody(badSave)["pointer"]?.string == "/save_as")
        }
    }

    @Test func memoryStoreIsBounded() async throws {
        // One such network (441 parameters, about 12 KB with its JSON) fits, two do not.
        try await buildApplication(testConfiguration { $0.networkMemory = 20_000 }).test(.router) { client in
            let network = #"{"inputs": 20, "layers": [{"units": 20}, {"units": 1}], "seed": 1}"#
            #expect(try await Self.put(client, "first", network).status == .created)
            let full = try await Self.put(client, "second", network)
            #expect(full.status.code == 507)
            #expect(try JSONBody(full)["title"]?.string == "Network store full")
            #expect(try await client.execute(uri: "/networks/first", method: .delete).status == .noContent)
            #expect(try await Self.put(client, "second", network).status == .created)
        }
    }
}
