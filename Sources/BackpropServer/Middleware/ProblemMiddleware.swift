import Hummingbird
import Logging
import NIOCore

/// Turns every error into an RFC 9457 problem: Hummingbird's own (404, 413, ...)
/// into the same shape as ours, a 404 on a known path into a 405 with `Allow`,
/// and anything unexpected into a logged 500.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// The methods a path answers, for 405's `Allow`; nil for an unknown path.
    let allowedMethods: @Sendable (String) -> [HTTPRequest.Method]?

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let problem as Problem {
            throw problem
        } catch let error as HTTPError {
            throw problem(for: error, request: request)
        } catch is NIOTooManyBytesError {
            throw Problem(
                .contentTooLarge, title: "Body too large",
                detail: "the request body is over this server's limit; send less data or raise --max-body-size")
        } catch is CancellationError {
            throw Problem(.serviceUnavailable, title: "Cancelled", detail: "the computation was cancelled")
        } catch {
            context.logger.error("unexpected error: \(error)")
            throw Problem(.internalServerError, title: "Internal error", detail: "an unexpected error occurred; this is a bug in the service")
        }
    }

    private func problem(for error: HTTPError, request: Request) -> Problem {
        switch error.status {
        case .notFound:
            if let allowed = allowedMethods(request.uri.path), !allowed.contains(request.method) {
                let names = allowed.map(\.rawValue).joined(separator: ", ")
                return Problem(
                    .methodNotAllowed, title: "Method not allowed",
                    detail: "\(request.uri.path) answers \(names), not \(request.method.rawValue)",
                    headers: [.allow: names])
            }
            return Problem(.notFound, title: "Not found", detail: "there is no route \(request.uri.path)")
        case .contentTooLarge:
            return Problem(
                .contentTooLarge, title: "Body too large",
                detail: "the request body is over this server's limit; send less data or raise --max-body-size")
        default:
            return Problem(
                error.status, title: error.status.reasonPhrase,
                detail: error.body ?? error.status.reasonPhrase)
        }
    }
}
