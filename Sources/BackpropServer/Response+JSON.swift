import Hummingbird
import NIOCore

extension Response {
    /// A JSON response from encoded bytes.
    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// A JSON response from a value, compact or pretty.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, pretty: Bool) -> Response {
        json(bytes: JSONWriter.encode(value, pretty: pretty), status: status)
    }
}

extension Request {
    /// `?pretty=true` or `?pretty=false`; anything else is a 400.
    func prettyFlag() throws(Problem) -> Bool {
        let values = uri.queryParameters.getAll("pretty")
        switch values.last {
        case nil, "false": return false
        case "true": return true
        case let other?:
            throw Problem(
                .badRequest, title: "Invalid query parameter",
                detail: "pretty must be true or false, not \"\(other)\"")
        }
    }
}
