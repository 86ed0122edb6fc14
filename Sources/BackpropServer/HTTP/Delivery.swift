import Hummingbird
import NIOCore

/// What every route needs to send data back within the memory budget: the budget,
/// and the deadlines that disconnect a client that stops reading.
struct Delivery: Sendable {
    let budget: MemoryBudget
    let deadlines: ConnectionDeadlines
    /// A client that reads nothing of an answer or stream for this long is disconnected.
    let writeTimeout: Duration
    /// A streamed answer encodes each piece holding one of this gate's passes.
    let encoders: EncodingGate

    /// A prepared answer as the response (see `Answer`).
    func response(_ answer: Answer, reservation: MemoryReservation, channel: any Channel) -> Response {
        answer.response(reservation: reservation, delivery: self, channel: channel)
    }

    /// `value` as the response, streamed if large; a 503 if the budget has no room for it.
    func response(_ value: JSONValue, pretty: Bool, status: HTTPResponse.Status = .ok, channel: any Channel) throws(Problem) -> Response {
        let reservation = MemoryReservation(budget: budget, kind: .answers)
        var response = response(try Answer(value, pretty: pretty, reservation: reservation), reservation: reservation, channel: channel)
        response.status = status
        return response
    }

    /// Writes `buffer` to a streamed body, disconnecting the client if it reads none of it for `writeTimeout`.
    ///
    /// Then yields its thread: a write to a socket with room returns at once, so without
    /// this a hundred streams encoding their pieces would hold the few threads of the
    /// task pool and keep a `/health` waiting behind them for most of a second.
    func write(_ buffer: ByteBuffer, to writer: inout any ResponseBodyWriter, channel: any Channel) async throws {
        let token = deadlines.begin(channel, within: writeTimeout)
        defer { deadlines.end(token) }
        try await writer.write(buffer)
        await Task.yield()
    }
}
