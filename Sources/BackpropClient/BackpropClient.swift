import AsyncHTTPClient
import Foundation
import NIOCore
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime

/// A client of the Backprop service: an async method per operation, taking and
/// returning the Codable types generated from `openapi.yaml` (``BackpropClient/Network``,
/// ``BackpropClient/GradientRequest`` and so on), and throwing a ``BackpropProblem`` for
/// every problem answer of the service.
///
/// ```swift
/// let client = BackpropClient(baseURL: URL(string: "http://127.0.0.1:8080")!)
/// let step = try await client.gradient(.init(
///     network: .init(layers: [.given(weights: [0.5, -0.5, 0.3, 0.1])]),
///     input: .sample([1, 2, 3, 4]), target: 0.5, learningRate: 0.5))
/// print(step.loss)  // 0.0180451517398528
/// ```
///
/// The generated client, for anything this layer does not cover (the playground's
/// files, `?pretty=true`, compressed request bodies), is ``generated``; it shares the
/// API key and the problem handling (its calls throw the problem wrapped in the
/// runtime's `ClientError`, whose `underlyingError` it is).
public struct BackpropClient: Sendable {
    /// The client swift-openapi-generator made from `openapi.yaml`.
    public let generated: Client

    /// - Parameters:
    ///   - baseURL: The server, e.g. `http://127.0.0.1:8080`, or a prefix under which a
    ///     proxy serves the API (`https://example.com/backprop`); the API's paths are
    ///     appended to it, after a trailing `/` is dropped.
    ///   - httpClient: The AsyncHTTPClient to send requests with.
    ///   - apiKey: The server's API key, sent as `Authorization: Bearer` (none by default).
    ///   - timeout: How long a request may take until its answer's head arrives; an
    ///     event stream's body may take longer.
    public init(baseURL: URL, httpClient: HTTPClient = .shared, apiKey: String? = nil, timeout: Duration = .seconds(60)) {
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let timeAmount: TimeAmount =
            nanoseconds.overflow ? .nanoseconds(.max) : .nanoseconds(nanoseconds.partialValue &+ attoseconds / 1_000_000_000)
        let transport = AsyncHTTPClientTransport(configuration: .init(client: httpClient, timeout: timeAmount))
        self.init(baseURL: baseURL, transport: transport, apiKey: apiKey)
    }

    /// A client over any transport (the tests' recording one).
    init(baseURL: URL, transport: any ClientTransport, apiKey: String?) {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        let serverURL = URL(string: base) ?? baseURL
        generated = Client(serverURL: serverURL, transport: transport, middlewares: [ProblemMiddleware(apiKey: apiKey)])
    }

    // MARK: Compute

    /// `POST /forward`: the network's output for one sample or a batch, and with
    /// `trace` every layer's weighted input and output.
    public func forward(_ request: ForwardRequest) async throws -> ForwardResponse {
        let output = try await unwrappingProblems { try await generated.forward(body: .json(request)) }
        guard case let .ok(ok) = output else { throw Self.unexpected("forward", output) }
        return try ok.body.json
    }

    /// `POST /gradient`: one backpropagation step, without changing the network.
    public func gradient(_ request: GradientRequest) async throws -> GradientResponse {
        let output = try await unwrappingProblems { try await generated.gradient(body: .json(request)) }
        guard case let .ok(ok) = output else { throw Self.unexpected("gradient", output) }
        return try ok.body.json
    }

    /// `POST /train`: trains within the server's synchronous budget and returns the
    /// trained network (longer training belongs to ``submitJob(_:idempotencyKey:)``).
    public func train(_ request: TrainRequest) async throws -> TrainResponse {
        let output = try await unwrappingProblems {
            try await generated.train(headers: .init(accept: [.init(contentType: .json)]), body: .json(request))
        }
        guard case let .ok(ok) = output else { throw Self.unexpected("train", output) }
        return try ok.body.json
    }

    // MARK: Operations

    /// `GET /health`: the service's status and version.
    public func health() async throws -> Components.Schemas.Health {
        let output = try await unwrappingProblems { try await generated.health() }
        guard case let .ok(ok) = output else { throw Self.unexpected("health", output) }
        return try ok.body.json
    }

    /// `GET /health/live`: true while the process serves HTTP.
    public func isLive() async throws -> Bool {
        let output = try await unwrappingProblems { try await generated.healthLive() }
        guard case let .ok(ok) = output else { throw Self.unexpected("healthLive", output) }
        return try ok.body.json.status == .ok
    }

    /// `GET /health/ready`: nil if the replica is ready for traffic, or why it is not
    /// (its 503's `reason`).
    public func notReadyReason() async throws -> String? {
        let output = try await unwrappingProblems { try await generated.healthReady() }
        switch output {
        case .ok: return nil
        case let .serviceUnavailable(unavailable): return try unavailable.body.json.reason
        default: throw Self.unexpected("healthReady", output)
        }
    }

    /// `GET /metrics`: the Prometheus text exposition.
    public func metrics() async throws -> String {
        let output = try await unwrappingProblems { try await generated.metrics() }
        guard case let .ok(ok) = output else { throw Self.unexpected("metrics", output) }
        return try await String(collecting: ok.body.plainText, upTo: 64 << 20)
    }

    /// `GET /openapi.yaml`: the API's description, as the server bundles it.
    public func openAPIDocument() async throws -> String {
        let output = try await unwrappingProblems { try await generated.openapi() }
        guard case let .ok(ok) = output else { throw Self.unexpected("openapi", output) }
        return try await String(collecting: ok.body.yaml, upTo: 16 << 20)
    }

    /// An answer that is neither the operation's success nor a problem.
    static func unexpected(_ operation: String, _ output: some Sendable) -> BackpropClientError {
        .unexpectedResponse(operation: operation, description: "\(output)")
    }
}
