@testable import BackpropClient
import Foundation
import HTTPTypes
import OpenAPIRuntime
import Testing

/// What the client sends, seen by a transport that records each request and answers as
/// told (no server).
@Suite struct RequestTests {
    final class RecordingTransport: ClientTransport, Sendable {
        let sent = Locked<[(path: String?, baseURL: String, authorization: String?)]>([])
        let status: HTTPResponse.Status
        let contentType: String
        let body: String

        init(status: HTTPResponse.Status = .ok, contentType: String = "application/json", body: String) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }

        func send(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String) async throws -> (HTTPResponse, HTTPBody?) {
            sent.withLock { $0.append((request.path, baseURL.absoluteString, request.headerFields[.authorization])) }
            return (HTTPResponse(status: status, headerFields: [.contentType: contentType, .retryAfter: "7"]), HTTPBody(self.body))
        }
    }

    @Test func trailingSlashesOfTheBaseURLAreDropped() async throws {
        let transport = RecordingTransport(body: #"{"status":"ok","version":"1.0.0"}"#)
        let api = BackpropClient(baseURL: try #require(URL(string: "https://example.com/backprop//")), transport: transport, apiKey: nil)
        #expect(try await api.health().version == "1.0.0")
        let sent = transport.sent.withLock { $0 }
        #expect(sent.map(\.baseURL) == ["https://example.com/backprop"])
        #expect(sent.map(\.path) == ["/health"])
        #expect(sent.map(\.authorization) == [nil])
    }

    @Test func theAPIKeyIsABearerToken() async throws {
        let transport = RecordingTransport(body: #"{"status":"ok"}"#)
        let api = BackpropClient(baseURL: try #require(URL(string: "http://127.0.0.1:8080")), transport: transport, apiKey: "k3y")
        #expect(try await api.isLive())
        #expect(transport.sent.withLock { $0 }.map(\.authorization) == ["Bearer k3y"])
    }

    @Test func aProblemBodyIsThrownWithItsRetryAfter() async throws {
        let transport = RecordingTransport(
            status: .tooManyRequests, contentType: "application/problem+json; charset=utf-8",
            body: #"{"type":"about:blank","title":"Too many requests","status":429,"detail":"the compute queue is full","request_id":"abc"}"#
        )
        let api = BackpropClient(baseURL: try #require(URL(string: "http://127.0.0.1:8080")), transport: transport, apiKey: nil)
        let tooMany = try #require(await problem { try await api.jobs() })
        #expect(tooMany == BackpropProblem(
            status: 429, title: "Too many requests", detail: "the compute queue is full", requestID: "abc", retryAfter: 7
        ))
    }
}
