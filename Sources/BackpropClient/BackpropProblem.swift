import Foundation

/// An error answer of the service, read from its `application/problem+json` body
/// (RFC 9457): every 4xx and 5xx of the API carries one. Thrown by every
/// ``BackpropClient`` method, and carried by a job's `failed` event.
public struct BackpropProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// The HTTP status code, e.g. 422.
    public var status: Int
    /// A short summary of the problem type, e.g. `Shape mismatch`.
    public var title: String
    /// What went wrong in this request.
    public var detail: String
    /// A JSON Pointer (RFC 6901) to the field at fault, e.g. `/network/layers/1/weights`,
    /// where there is one (`""` for the body as a whole).
    public var pointer: String?
    /// For malformed JSON, the line and column of the error (from 1).
    public var line: Int?
    public var column: Int?
    /// The request's id, as in its `X-Request-Id` answer header; the server logs it.
    public var requestID: String?
    /// A URI reference identifying the problem type (`about:blank`).
    public var type: String
    /// The answer's `Retry-After`, in seconds, where the server sent one (429, 503).
    public var retryAfter: Int?

    public init(
        status: Int, title: String, detail: String, pointer: String? = nil, line: Int? = nil,
        column: Int? = nil, requestID: String? = nil, type: String = "about:blank", retryAfter: Int? = nil
    ) {
        self.status = status
        self.title = title
        self.detail = detail
        self.pointer = pointer
        self.line = line
        self.column = column
        self.requestID = requestID
        self.type = type
        self.retryAfter = retryAfter
    }

    /// The problem a generated `Components.Schemas.Problem` carries.
    public init(_ problem: Components.Schemas.Problem, retryAfter: Int? = nil) {
        self.init(
            status: problem.status, title: problem.title, detail: problem.detail,
            pointer: problem.pointer, line: problem.line, column: problem.column,
            requestID: problem.requestId, type: problem._type, retryAfter: retryAfter
        )
    }

    public var description: String {
        var text = "\(status) \(title): \(detail)"
        if let pointer { text += " (at \(pointer.isEmpty ? "the body" : pointer))" }
        if let requestID { text += " [request \(requestID)]" }
        return text
    }
}

/// A failure of ``BackpropClient`` that is not a problem answer of the service.
public enum BackpropClientError: Error, Hashable, Sendable, CustomStringConvertible {
    /// An answer the API does not document for the operation (status and content type
    /// as received), and not a problem either.
    case unexpectedResponse(operation: String, description: String)
    /// An event stream sent an event this client does not know, or data it cannot read.
    case unreadableEvent(event: String?, id: String?, detail: String)
    /// An event stream was ended early by the server (with `retry:`) `maxReconnects`
    /// times in a row without bringing an event.
    case eventStreamEnded(jobID: String?, lastEventID: Int?)
    /// A job has no result: it did not succeed (its status is given).
    case noResult(jobID: String, status: String)

    public var description: String {
        switch self {
        case let .unexpectedResponse(operation, description):
            "\(operation): unexpected answer \(description)"
        case let .unreadableEvent(event, id, detail):
            "unreadable event \(event ?? "(none)") id \(id ?? "(none)"): \(detail)"
        case let .eventStreamEnded(jobID, lastEventID):
            "the event stream of job \(jobID ?? "(unknown)") kept ending without a last event (last id \(lastEventID.map(String.init) ?? "none"))"
        case let .noResult(jobID, status):
            "job \(jobID) has no result: it is \(status)"
        }
    }
}
