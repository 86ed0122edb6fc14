import Hummingbird
import NIOCore

extension Response {
    /// A JSON response from encoded bytes.
    static func json(buffer: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: buffer))
    }

    /// A JSON response from a value, compact or pretty.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, pretty: Bool) -> Response {
        json(buffer: .json(value, pretty: pretty), status: status)
    }
}

extension ByteBuffer {
    /// `value` written as JSON, compact or pretty.
    static func json(_ value: JSONValue, pretty: Bool) -> ByteBuffer {
        var buffer = ByteBuffer()
        JSONWriter.encode(value, pretty: pretty, into: &buffer)
        return buffer
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
