import Foundation
import HTTPTypes
import OpenAPIRuntime

/// The client's middleware: sends the API key as `Authorization: Bearer`, and turns every
/// `application/problem+json` answer into a thrown ``BackpropProblem``, so that no
/// operation's caller has to pick the problem out of each documented status case.
struct ProblemMiddleware: ClientMiddleware {
    /// A problem is small; a larger body is not read whole.
    static let maxProblemBytes = 1 << 20

    let apiKey: String?

    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        baseURL: URL,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if let apiKey {
            request.headerFields[.authorization] = "Bearer \(apiKey)"
        }
        let (response, responseBody) = try await next(request, body, baseURL)
        guard response.status.code >= 400, Self.isProblem(response.headerFields[.contentType]) else {
            return (response, responseBody)
        }
        var bytes: [UInt8] = []
        if let responseBody { bytes = try await [UInt8](collecting: responseBody, upTo: Self.maxProblemBytes) }
        let problem = try JSONDecoder().decode(Components.Schemas.Problem.self, from: Data(bytes))
        let retryAfter = response.headerFields[.retryAfter].flatMap { Int($0) }
        throw BackpropProblem(problem, retryAfter: retryAfter)
    }

    /// `application/problem+json`, with or without parameters, in any case.
    static func isProblem(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == "application/problem+json"
    }
}

/// Runs a generated client's call and rethrows a ``BackpropProblem`` that the middleware
/// threw as itself, not wrapped in the runtime's `ClientError`.
func unwrappingProblems<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ClientError {
        if let problem = error.underlyingError as? BackpropProblem { throw problem }
        throw error
    }
}
