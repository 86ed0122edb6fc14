import BackpropCore
import Hummingbird

/// An RFC 9457 problem, sent as `application/problem+json`.
///
/// Every error the service answers with is one of these; `status` comes from
/// the kind of fault, in one place (`init(_ error: CoreError, ...)` and the
/// helpers below), and `pointer` is an RFC 6901 JSON Pointer to the field at fault.
public struct Problem: Error, HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    public var pointer: String?
    public var line: Int?
    public var column: Int?
    /// Extra headers (`Allow`, `Retry-After`).
    public var headers: HTTPFields = [:]

    public init(
        _ status: HTTPResponse.Status, title: String, detail: String, pointer: String? = nil,
        headers: HTTPFields = [:]
    ) {
        self.status = status
        self.title = title
        self.detail = detail
        self.pointer = pointer
        self.headers = headers
    }

    /// 400: the body is not JSON; with the line and column of the fault.
    static func malformed(_ error: JSONSyntaxError) -> Problem {
        var problem = Problem(
            .badRequest, title: "Malformed JSON",
            detail: "\(error.message) (line \(error.line), column \(error.column))")
        problem.line = error.line
        problem.column = error.column
        return problem
    }

    /// 400: the JSON is not the shape of the request (missing field, wrong type, unknown field).
    static func badShape(_ detail: String, at pointer: JSONPointer) -> Problem {
        Problem(.badRequest, title: "Invalid request", detail: detail, pointer: pointer.description)
    }

    /// 422: well-formed JSON that makes no sense.
    static func unprocessable(_ title: String, _ detail: String, at pointer: JSONPointer?) -> Problem {
        Problem(.unprocessableContent, title: title, detail: detail, pointer: pointer?.description)
    }

    /// The problem for a core error, its location named as `names` say; an unlocated
    /// error stands at `base`. All core errors are 422: they are about values, not JSON shapes.
    init(_ error: CoreError, names: WireNames = WireNames(), at base: JSONPointer = JSONPointer()) {
        let title =
            switch error.code {
            case .shapeMismatch: "Shape mismatch"
            case .invalidValue: "Invalid value"
            case .invalidActivation: "Invalid activation"
            case .invalidLoss: "Invalid loss"
            case .invalidTarget: "Invalid target"
            case .nonFinite: "Result is not finite"
            }
        let pointer = error.location == .unlocated ? base : names.pointer(error.location)
        let message = error.message.text(naming: names.name)
        // A message that names its places itself ("layers[1].weights has 3 rows…") stands alone.
        let alone = error.location == .unlocated ? pointer.isEmpty : error.message.readsAlone(at: error.location)
        self.init(
            .unprocessableContent, title: title,
            detail: alone ? message : "\(pointer.readable): \(message)",
            pointer: pointer.description)
    }

    /// The problem document.
    public var json: JSONValue {
        var fields: [(key: String, value: JSONValue)] = [
            ("type", .string("about:blank")),
            ("title", .string(title)),
            ("status", .unsigned(UInt64(status.code))),
            ("detail", .string(detail)),
        ]
        if let pointer { fields.append(("pointer", .string(pointer))) }
        if let line { fields.append(("line", .unsigned(UInt64(line)))) }
        if let column { fields.append(("column", .unsigned(UInt64(column)))) }
        return .object(fields)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let pretty = request.uri.queryParameters.get("pretty") == "true"
        var body = json
        if let id = (context as? AppRequestContext)?.requestID, !id.isEmpty, case .object(var fields) = body {
            fields.append(("request_id", .string(id)))
            body = .object(fields)
        }
        var response = Response.json(body, status: status, pretty: pretty)
        response.headers[.contentType] = "application/problem+json"
        response.headers.append(contentsOf: headers)
        return response
    }
}
