import Hummingbird

/// On the Open Inference Protocol's routes (`/v2` and below), errors in the
/// protocol's own form, `{"error": "..."}`, instead of a problem document: the
/// status and headers (`Allow`, `Retry-After`) stay, a 422 becomes the protocol's 400.
///
/// It stands just outside `ProblemMiddleware`, so it sees every error as a `Problem`:
/// the routes' own, and Hummingbird's (404, 405, 413).
struct InferenceErrorMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static func applies(to path: String) -> Bool {
        path == "/v2" || path.hasPrefix("/v2/")
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard Self.applies(to: request.uri.path) else { return try await next(request, context) }
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            return Self.response(problem)
        }
    }

    static func response(_ problem: Problem) -> Response {
        let status: HTTPResponse.Status = problem.status == .unprocessableContent ? .badRequest : problem.status
        var response = Response.json(.object([("error", .string(problem.detail))]), status: status, pretty: false)
        response.headers.append(contentsOf: problem.headers)
        return response
    }
}
