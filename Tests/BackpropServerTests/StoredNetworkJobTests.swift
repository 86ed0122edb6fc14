import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import BackpropServer

/// Training jobs and stored networks over the memory stores: a job naming a stored
/// network trains the version resolved at submission, and `save_as` stores the
/// trained network and names it in the result. `PostgresNetworkStoreTests` runs the
/// same checks across two replicas on PostgreSQL.
@Suite struct StoredNetworkJobTests {
    static let network = """
        {"inputs": 2, "layers": [{"units": 4}, {"units": 1}], "seed": 7}
        """

    static func job(_ reference: String, saveAs: String? = nil) -> String {
        """
        {"network": \(reference), "inputs": [[0, 0], [0, 1], [1, 0], [1, 1]], "targets": [0, 1, 1, 0],
         "epochs": 50, "learning_rate": 2, "seed": 7\(saveAs.map { ", \"save_as\": \"\($0)\"" } ?? "")}
        """
    }

    /// Every weight and bias of a network object.
    static func parameters(_ network: JSONBody?) -> [Double] {
        var numbers: [Double] = []
        for layer in (network?["layers"]?.value as? [Any]) ?? [] {
            let layer = JSONBody(raw: layer)
            numbers += layer["weights"]?.matrix?.flatMap { $0 } ?? layer["weights"]?.numbers ?? []
            numbers += layer["biases"]?.numbers ?? layer["biases"]?.number.map { [$0] } ?? []
        }
        return numbers
    }

    static func put(_ client: some TestClientProtocol, _ name: String, _ body: String) async throws -> TestResponse {
        try await client.execute(uri: "/networks/\(name)", method: .put, body: ByteBuffer(string: body))
    }

    /// The checks, with the network stored through `a` and the job submitted to `b`
    /// (one replica or two); returns the job's id.
    @discardableResult
    static func check(
        _ a: some TestClientProtocol, _ b: some TestClientProtocol,
        waitFor: (String) async throws -> JSONBody
    ) async throws -> String {
        let stored = try await put(a, "xor", network)
        #expect(stored.status == .created)
        let submitted = try await b.post("/train/jobs", job("{\"name\": \"xor\"}", saveAs: "xor-trained"))
        #expect(submitted.status == .accepted)
        let id = try #require(try JSONBody(submitted)["id"]?.string)
        // A new version right after the submission: the job still trains version 1.
        #expect(try await put(a, "xor", network).status == .created)
        let done = try await waitFor(id)
        #expect(done["status"]?.string == "succeeded")
        let result = done["result"]
        #expect(result?["stored_network"]?["name"]?.string == "xor")
        #expect(result?["stored_network"]?["version"]?.number == 1)
        let saved = try #require(result?["saved_as"])
        #expect(saved["name"]?.string == "xor-trained")
        #expect(saved["version"]?.number == 1)
        let shown = try await a.execute(uri: "/networks/xor-trained", method: .get)
        #expect(shown.status == .ok)
        #expect(shown.headers[.eTag] == saved["etag"]?.string)
        let trained = parameters(result?["network"])
        let shownNetwork = try JSONBody(shown)["network"]
        #expect(!trained.isEmpty && parameters(shownNetwork) == trained)
        // The same job on version 1 given explicitly, saved again: version 2 of the result's name.
        let again = try await b.post("/train/jobs", job("{\"name\": \"xor\", \"version\": 1}", saveAs: "xor-trained"))
        let second = try await waitFor(try #require(try JSONBody(again)["id"]?.string))
        #expect(second["result"]?["saved_as"]?["version"]?.number == 2)
        #expect(parameters(second["result"]?["network"]) == trained, "the same version and seed train the same bits")
        // Names that are not stored are refused at submission.
        for reference in ["{\"name\": \"missing\"}", "{\"name\": \"xor\", \"version\": 9}"] {
            let refused = try await b.post("/train/jobs", job(reference))
            #expect(refused.status == .notFound)
            #expect(refused.headers[.contentType] == "application/problem+json")
        }
        return id
    }

    @Test func jobsTrainStoredNetworksAndSaveTheirResult() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            _ = try await Self.check(client, client) { id in
                try await JobTests.waitFor(client, id, status: "succeeded")
            }
        }
    }

    @Test func canonicalBodyPinsTheVersion() throws {
        let json = try JSONParser.parse(Array(#"{"network": {"name": "xor"}, "epochs": 1}"#.utf8))
        let stored = StoredNetwork(
            name: "xor", version: 3, createdAt: Date(),
            content: try NetworkContent(json: Array(#"{"layers":[{"weights":[0.5]}]}"#.utf8)))
        let text = String(decoding: JobController.canonicalBody(json, seed: 5, stored: stored), as: UTF8.self)
        #expect(text == #"{"network":{"name":"xor","version":3},"epochs":1,"seed":5}"#)
    }
}

extension PostgresNetworkStoreTests {
    /// The same over two replicas on PostgreSQL: stored through one, submitted to the
    /// other, and whichever claims the job resolves the version pinned in its stored body.
    @Test func jobsTrainStoredNetworksAndSaveTheirResultAcrossReplicas() async throws {
        try await TestDatabase.with { url in
            let a = buildApplication(PostgresJobStoreTests.configuration(url, replica: "a"))
            let b = buildApplication(PostgresJobStoreTests.configuration(url, replica: "b"))
            try await a.test(.router) { clientA in
                try await b.test(.router) { clientB in
                    try await PostgresJobStoreTests.waitUntilReady(clientA)
                    try await PostgresJobStoreTests.waitUntilReady(clientB)
                    let id = try await StoredNetworkJobTests.check(clientA, clientB) { id in
                        try await PostgresJobStoreTests.waitFor(clientA, id, ["succeeded", "failed"])
                    }
                    let request = try await TestDatabase.rows("SELECT request FROM jobs WHERE id = '\(id)'", on: url)
                    let text = request.first?.first ?? nil
                    #expect(text?.contains(#""network":{"name":"xor","version":1}"#) == true)
                    let list = try JSONBody(try await clientB.execute(uri: "/networks", method: .get))
                    #expect(list["networks"]?.count == 2)
                }
            }
        }
    }
}

extension UnreachableDatabaseTests {
    @Test func networkRoutesAnswer503WhileTheDatabaseIsDown() async throws {
        let port = try ServerProcess.freePort()
        let url = try DatabaseURL("postgres://backprop:secret-password@127.0.0.1:\(port)/backprop?sslmode=disable")
        try await buildApplication(testConfiguration { $0.databaseURL = url }).test(.router) { client in
            for response in [
                try await client.execute(uri: "/networks", method: .get),
                try await client.execute(uri: "/networks/xor", method: .get),
                try await StoredNetworkJobTests.put(client, "xor", StoredNetworkJobTests.network),
                try await client.execute(uri: "/networks/xor", method: .delete),
                try await client.execute(uri: "/networks/xor/versions/1", method: .delete),
                try await client.post("/forward", #"{"network": {"name": "xor"}, "input": [0, 1]}"#),
            ] {
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] != nil)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(!String(buffer: response.body).contains("secret-password"))
            }
        }
    }
}
