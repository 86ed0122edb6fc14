import HTTPTypes
import Hummingbird
import Logging

/// A request id on every answer: the client's `X-Request-Id` (1 to 128 visible ASCII
/// characters), or else a new one (16 hexadecimal digits). It is echoed in the answer's
/// `X-Request-Id`, logged with the request (`request_id`), and put in every problem
/// body as `request_id`, so a user's report can be matched to the log.
///
/// Outermost of the middlewares: the others, and the handlers, log with it.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    static let header = HTTPField.Name("X-Request-Id")!

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = Self.accepted(request.headers[Self.header]) ?? JobSnapshot.newID()
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            // Rendered here, where the context has the id (a problem body carries it).
            response = try error.response(from: request, context: context)
        }
        response.headers[Self.header] = id
        return response
    }

    /// The client's id if it is one we keep: 1 to 128 visible ASCII characters.
    static func accepted(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else { return nil }
        return value
    }
}
