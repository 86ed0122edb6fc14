import BackpropClient
import BackpropServer
import BackpropTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// Runs `body` with a ``BackpropClient`` of a server listening on a real socket (a free
/// port on localhost, the URL ending with `path`), built from the test configuration as
/// `modify` changes it.
func withLiveClient(
    apiKey: String? = nil,
    path: String = "",
    _ modify: (inout Configuration) -> Void = { _ in },
    _ body: @escaping @Sendable (BackpropClient) async throws -> Void
) async throws {
    try await buildApplication(testConfiguration(modify)).test(.live) { client in
        let port = try #require(client.port)
        let url = try #require(URL(string: "http://localhost:\(port)\(path)"))
        try await body(BackpropClient(baseURL: url, apiKey: apiKey))
    }
}

/// The problem `body` throws, or nil (and a failed expectation) if it throws none or
/// something else.
func problem(of body: () async throws -> some Any, sourceLocation: SourceLocation = #_sourceLocation) async -> BackpropProblem? {
    do {
        _ = try await body()
        Issue.record("no error thrown", sourceLocation: sourceLocation)
    } catch let problem as BackpropProblem {
        return problem
    } catch {
        Issue.record("not a BackpropProblem: \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Requests of the API's examples (openapi.yaml), written with the client's types.
enum Examples {
    /// The seed's hidden-layer network: 3 inputs, 2 hidden units, one output.
    static let hiddenLayerNetwork = BackpropClient.Network(layers: [
        .given(weights: [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]),
        .given(weights: [0.1, -0.3]),
    ])

    /// XOR with a generated 2-4-1 network, adam, cross-entropy and early stopping.
    static let xor = BackpropClient.TrainRequest(
        network: .init(inputs: 2, layers: [.generated(units: 4, activation: .tanh), .generated(units: 1)], _init: .auto, seed: 7),
        inputs: .batch([[0, 0], [0, 1], [1, 0], [1, 1]]), targets: .vector([0, 1, 1, 0]),
        epochs: 40, learningRate: 0.2, batchSize: 4, shuffle: true, seed: 7, loss: .crossEntropy,
        optimizer: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1.0e-8), l2: 0.0,
        earlyStopping: .init(patience: 5, minDelta: 1.0e-4)
    )

    /// XOR, 2,000 epochs of SGD with momentum: the API's job example.
    static let xorJob = BackpropClient.TrainRequest(
        network: .init(inputs: 2, layers: [.generated(units: 4), .generated(units: 1)], seed: 7),
        inputs: .batch([[0, 0], [0, 1], [1, 0], [1, 1]]), targets: .vector([0, 1, 1, 0]),
        epochs: 2000, learningRate: 2, seed: 7, optimizer: .sgd(momentum: 0.9)
    )

    /// Runs for hours unless cancelled (50 × 50 weights, 10^8 epochs).
    static let long = BackpropClient.TrainRequest(
        network: .init(inputs: 50, layers: [.generated(units: 50), .generated(units: 1)], seed: 1),
        inputs: .batch([Array(repeating: 0.1, count: 50)]), targets: .vector([1]),
        epochs: 100_000_000, learningRate: 0.0001, seed: 1
    )
}

/// A value shared with `@Sendable` closures.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout sending Value) throws -> sending Result) rethrows -> Result {
        try mutex.withLock(body)
    }
}
