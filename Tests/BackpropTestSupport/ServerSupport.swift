import BackpropServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A configuration for tests: small pool, quiet logs, port 0 (any free port).
public func testConfiguration(_ modify: (inout Configuration) -> Void = { _ in }) -> Configuration {
    var configuration = Configuration()
    configuration.port = 0
    configuration.logLevel = .warning
    configuration.computeThreads = 2
    modify(&configuration)
    return configuration
}

/// A parsed JSON body, read with Foundation's parser (independent of the server's).
public struct JSONBody: @unchecked Sendable {
    // @unchecked: holds only immutable Foundation values produced by JSONSerialization.
    public let value: Any

    public init(_ response: TestResponse) throws {
        value = try JSONSerialization.jsonObject(with: Data(buffer: response.body), options: [.fragmentsAllowed])
    }

    public subscript(_ key: String) -> JSONBody? {
        guard let object = value as? [String: Any], let field = object[key] else { return nil }
        return JSONBody(raw: field)
    }

    public subscript(_ index: Int) -> JSONBody? {
        guard let array = value as? [Any], array.indices.contains(index) else { return nil }
        return JSONBody(raw: array[index])
    }

    public init(raw: Any) { value = raw }

    public var number: Double? { (value as? NSNumber)?.doubleValue }
    public var string: String? { value as? String }
    public var numbers: [Double]? { (value as? [Any])?.compactMap { JSONBody(raw: $0).number } }
    public var matrix: [[Double]]? { (value as? [Any])?.compactMap { JSONBody(raw: $0).numbers } }
    public var count: Int? { (value as? [Any])?.count }
    public var keys: Set<String>? { (value as? [String: Any]).map { Set($0.keys) } }
}

extension TestClientProtocol {
    /// POSTs a JSON text and returns the response.
    public func post(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }
}

/// The seed's two worked examples (API.md), as request bodies.
public enum SeedRequests {
    public static let singleNeuron = """
        {"network": {"layers": [{"weights": [0.5, -0.5, 0.3, 0.1]}]},
         "input": [1, 2, 3, 4], "target": 0.5, "learning_rate": 0.5}
        """
    public static let hiddenLayer = """
        {"network": {"layers": [
           {"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]},
           {"weights": [0.1, -0.3]}]},
         "input": [0.5, 0.1, -0.2], "target": 0.6, "learning_rate": 0.5}
        """
}
