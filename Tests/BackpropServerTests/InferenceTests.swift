import BackpropServer
import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The Open Inference Protocol routes (`/v2`): health, metadata, inference in JSON
/// and with binary tensor data, compared exactly with `/forward` on the same network.
@Suite struct InferenceTests {
    static let network = #"{"inputs": 2, "layers": [{"units": 3}, {"units": 2}], "seed": 7}"#
    static let samples: [[Double]] = [[0, 0], [0, 1], [1, 0], [1, 1], [0.3, -0.7]]
    static let headerLength = HTTPField.Name("Inference-Header-Content-Length")!

    /// Stores the network as "xor" and returns /forward's output for `samples`, row-major.
    static func store(_ client: some TestClientProtocol) async throws -> [Double] {
        let put = try await client.execute(uri: "/networks/xor", method: .put, body: ByteBuffer(string: network))
        #expect(put.status == .created)
        let rows = samples.map { "[\($0.map { "\($0)" }.joined(separator: ","))]" }.joined(separator: ",")
        let forward = try await client.post("/forward", #"{"network": {"name": "xor"}, "input": [\#(rows)]}"#)
        #expect(forward.status == .ok)
        #expect(try JSONBody(forward)["output"]?.matrix?.count == samples.count)
        return try exactOutput(forward)
    }

    /// The numbers of an answer's `"output": [[...], ...]`, each read with `Double(_:)`,
    /// which rounds exactly (Foundation's JSON reader on Linux may be an ulp off).
    static func exactOutput(_ response: TestResponse, key: String = "output", close: String = "]]") throws -> [Double] {
        let text = String(buffer: response.body)
        let start = try #require(text.range(of: "\"\(key)\":")).upperBound
        let end = try #require(text[start...].range(of: close)).lowerBound
        return try text[start..<end].split(whereSeparator: { "[],".contains($0) }).map { try #require(Double(String($0))) }
    }

    static func bytes(_ values: [Double]) -> [UInt8] {
        values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
    }

    static func doubles(_ bytes: some Collection<UInt8>) -> [Double] {
        let array = Array(bytes)
        return stride(from: 0, to: array.count, by: 8).map { offset in
            Double(bitPattern: array[offset..<offset + 8].reversed().reduce(0) { $0 << 8 | UInt64($1) })
        }
    }

    static func floats(_ bytes: some Collection<UInt8>) -> [Float] {
        let array = Array(bytes)
        return stride(from: 0, to: array.count, by: 4).map { offset in
            Float(bitPattern: array[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
        }
    }

    static var flatSamples: [Double] { samples.flatMap { $0 } }
    static var dataJSON: String { "[\(flatSamples.map { "\($0)" }.joined(separator: ","))]" }

    @Test func serverMetadataAndHealth() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let server = try await client.execute(uri: "/v2", method: .get)
            #expect(server.status == .ok)
            let body = try JSONBody(server)
            #expect(body["name"]?.string == "backprop")
            #expect((body["extensions"]?.value as? [String]) == ["binary_tensor_data"])
            #expect(try JSONBody(try await client.execute(uri: "/v2/health/live", method: .get))["live"]?.value as? Bool == true)
            #expect(try JSONBody(try await client.execute(uri: "/v2/health/ready", method: .get))["ready"]?.value as? Bool == true)
        }
    }

    @Test func apiKeySparesTheProbesAndAnswersInTheProtocolsForm() async throws {
        try await buildApplication(testConfiguration { $0.apiKey = "secret" }).test(.router) { client in
            for uri in ["/v2/health/live", "/v2/health/ready"] {
                #expect(try await client.execute(uri: uri, method: .get).status == .ok, "\(uri)")
            }
            let refused = try await client.execute(uri: "/v2", method: .get)
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[.wwwAuthenticate] == "Bearer")
            #expect(try JSONBody(refused).keys == ["error"])
            let allowed = try await client.execute(uri: "/v2", method: .get, headers: [.authorization: "Bearer secret"])
            #expect(allowed.status == .ok)
        }
    }

    @Test func modelMetadataAndReadiness() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            _ = try await Self.store(client)
            for uri in ["/v2/models/xor", "/v2/models/xor/versions/1"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .ok)
                let body = try JSONBody(response)
                #expect(body["name"]?.string == "xor")
                #expect((body["versions"]?.value as? [String]) == ["1"])
                #expect(body["platform"]?.string == "backprop")
                #expect(body["inputs"]?[0]?["name"]?.string == "input")
                #expect(body["inputs"]?[0]?["datatype"]?.string == "FP64")
                #expect(body["inputs"]?[0]?["shape"]?.numbers == [-1, 2])
                #expect(body["outputs"]?[0]?["name"]?.string == "output")
                #expect(body["outputs"]?[0]?["shape"]?.numbers == [-1, 2])
            }
            for uri in ["/v2/models/xor/ready", "/v2/models/xor/versions/1/ready"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .ok)
                #expect(try JSONBody(response)["ready"]?.value as? Bool == true)
            }
            for uri in ["/v2/models/nope", "/v2/models/xor/versions/2", "/v2/models/nope/ready", "/v2/models/xor/versions/9/ready"] {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .notFound, "\(uri)")
                #expect(response.headers[.contentType] == "application/json")
                #expect(try JSONBody(response).keys == ["error"])
            }
        }
    }

    @Test func jsonInferenceIsForwardExactly() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let forward = try await Self.store(client)
            for uri in ["/v2/models/xor/infer", "/v2/models/xor/versions/1/infer"] {
                let response = try await client.post(
                    uri,
                    #"{"id": "r-1", "inputs": [{"name": "input", "datatype": "FP64", "shape": [5, 2], "data": \#(Self.dataJSON)}]}"#)
                #expect(response.status == .ok)
                let body = try JSONBody(response)
                #expect(body["model_name"]?.string == "xor")
                #expect(body["model_version"]?.string == "1")
                #expect(body["id"]?.string == "r-1")
                let output = try #require(body["outputs"]?[0])
                #expect(output["name"]?.string == "output")
                #expect(output["datatype"]?.string == "FP64")
                #expect(output["shape"]?.numbers == [5, 2])
                #expect(try Self.exactOutput(response, key: "data", close: "]").map(\.bitPattern) == forward.map(\.bitPattern))
            }
        }
    }

    @Test func binaryRoundTripIsBitwiseForward() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let forward = try await Self.store(client)
            let header = Array(
                #"{"inputs": [{"name": "input", "datatype": "FP64", "shape": [5, 2], "parameters": {"binary_data_size": 80}}], "parameters": {"binary_data_output": true}}"#
                    .utf8)
            let response = try await client.execute(
                uri: "/v2/models/xor/infer", method: .post, headers: [Self.headerLength: "\(header.count)"],
                body: ByteBuffer(bytes: header + Self.bytes(Self.flatSamples)))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/octet-stream")
            let length = try #require(response.headers[Self.headerLength].flatMap { Int($0) })
            let all = Array(response.body.readableBytesView)
            let json = try JSONSerialization.jsonObject(with: Data(all[..<length])) as? [String: Any]
            let output = try #require((json?["outputs"] as? [[String: Any]])?.first)
            #expect((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 80)
            #expect(output["data"] == nil)
            #expect(all.count == length + 80)
            #expect(Self.doubles(all[length...]).map(\.bitPattern) == forward.map(\.bitPattern))
        }
    }

    @Test func fp32InputsAndOutputs() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            let forward = try await Self.store(client)
            // FP32 input: the samples rounded to floats (0.3 and -0.7 are not floats).
            let rounded = Self.flatSamples.map { Double(Float($0)) }
            let rows = stride(from: 0, to: rounded.count, by: 2).map { "[\(rounded[$0]),\(rounded[$0 + 1])]" }
            let expected = try JSONBody(
                try await client.post("/forward", #"{"network": {"name": "xor"}, "input": [\#(rows.joined(separator: ","))]}"#)
            )["output"]?.matrix?.flatMap { $0 }
            let json = try await client.post(
                "/v2/models/xor/infer",
                #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [5, 2], "data": \#(Self.dataJSON)}]}"#)
            #expect(try JSONBody(json)["outputs"]?[0]?["data"]?.numbers == expected)
            let floats = Self.flatSamples.flatMap { withUnsafeBytes(of: Float($0).bitPattern.littleEndian, Array.init) }
            let header = Array(
                #"{"inputs": [{"name": "input", "datatype": "FP32", "shape": [5, 2], "parameters": {"binary_data_size": 40}}], "outputs": [{"name": "output", "parameters": {"binary_data": true, "datatype": "FP32"}}]}"#
                    .utf8)
            let binary = try await client.execute(
                uri: "/v2/models/xor/infer", method: .post, headers: [Self.headerLength: "\(header.count)"],
                body: ByteBuffer(bytes: header + floats))
            #expect(binary.status == .ok)
            let length = try #require(binary.headers[Self.headerLength].flatMap { Int($0) })
            let all = Array(binary.body.readableBytesView)
            #expect(String(decoding: all[..<length], as: UTF8.self).contains(#""datatype":"FP32""#))
            #expect(Self.floats(all[length...]) == expected?.map { Float($0) })
            // FP32 output in JSON: each value the nearest float of /forward's.
            let asked = try await client.post(
                "/v2/models/xor/infer",
                #"{"inputs": [{"name": "input", "datatype": "FP64", "shape": [5, 2], "data": \#(Self.dataJSON)}], "outputs": [{"name": "output", "parameters": {"datatype": "FP32"}}]}"#)
            #expect(try JSONBody(asked)["outputs"]?[0]?["data"]?.numbers?.map { Float($0) } == forward.map { Float($0) })
        }
    }

    @Test func errorsAreTheProtocolsOwn() async throws {
        try await buildApplication(testConfiguration()).test(.router) { client in
            _ = try await Self.store(client)
            let cases: [(String, HTTPFields, Int, String)] = [
                ("{", [:], 400, "line 1"),
                (#"{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}]}"#, [:], 400, "no input \"x\""),
                (#"{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]}"#, [:], 400, "[-1, 2]"),
                (#"{"inputs": [{"name": "input", "datatype": "FP64", "shape": [2, 2], "data": [1, 2, 3]}]}"#, [:], 400, "has 3 numbers"),
                (#"{"inputs": [{"name": "input", "datatype": "INT8", "shape": [1, 2], "data": [1, 2]}]}"#, [:], 400, "INT8"),
                (#"{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}], "outputs": [{"name": "y"}]}"#,
                 [:], 400, "no output \"y\""),
                (#"{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}]}"#, [Self.headerLength: "999"], 400,
                 "Inference-Header-Content-Length"),
                (#"{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 2], "parameters": {"binary_data_size": 16}}]}"#,
                 [:], 400, "only 0 bytes"),
            ]
            for (body, headers, status, detail) in cases {
                let response = try await client.post("/v2/models/xor/infer", body, headers: headers)
                #expect(response.status.code == status, "\(body)")
                #expect(response.headers[.contentType] == "application/json")
                let error = try JSONBody(response)["error"]?.string
                #expect(error?.contains(detail) == true, "\(error ?? "no error") for \(body)")
            }
            let unknown = try await client.post("/v2/models/nope/infer", "{}")
            #expect(unknown.status == .notFound)
            #expect(try JSONBody(unknown)["error"]?.string == "there is no model named \"nope\"")
            let method = try await client.execute(uri: "/v2/health/live", method: .delete)
            #expect(method.status == .methodNotAllowed)
            #expect(method.headers[.allow] != nil)
            #expect(try JSONBody(method).keys == ["error"])
            // Elsewhere errors stay problem documents.
            let other = try await client.execute(uri: "/networks/nope", method: .get)
            #expect(other.headers[.contentType] == "application/problem+json")
        }
    }
}
