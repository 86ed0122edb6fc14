import HTTPTypes
import Hummingbird
import NIOCore

/// A computed answer on its way out. Small ones are encoded whole on the compute
/// pool and handed to the connection; large ones are kept as values, their room in
/// the memory budget held, and written in pieces as the client reads them.
enum Answer: Sendable {
    case encoded(ByteBuffer)
    case streamed(JSONValue, pretty: Bool)

    /// Answers whose text may pass this many bytes are streamed.
    static let streamThreshold = 256 * 1024
    /// The size of each piece of a streamed answer.
    static let chunkSize = 64 * 1024

    /// Prepares `value` (on the compute pool). A large answer takes its room from the
    /// request's reservation (the body's room is given back for it); if the budget has
    /// no room for it, a 503: the budget refuses new work rather than exceed itself.
    init(_ value: JSONValue, pretty: Bool, reservation: MemoryReservation) throws(Problem) {
        guard JSONWriter.sizeBound(value, pretty: pretty) > Self.streamThreshold else {
            self = .encoded(.json(value, pretty: pretty))
            return
        }
        // The value, a piece being filled and one being written.
        let held = value.memoryFootprint + 2 * Self.chunkSize
        let budget = reservation.budget
        guard held <= budget.total - budget.smallReserve else {
            // No retry could ever fit it: a 422, not a 503.
            throw .answerTooLarge(held, budget: budget.total)
        }
        guard reservation.resizeIfFits(to: held, as: .answers) else {
            throw .memoryBudgetExhausted
        }
        self = .streamed(value, pretty: pretty)
    }

    /// The response. A streamed answer's room is given back once it is written or its
    /// connection is gone; a client that reads nothing of it for the write timeout is
    /// disconnected (`Delivery.write`).
    func response(reservation: MemoryReservation, delivery: Delivery, channel: any Channel) -> Response {
        switch self {
        case .encoded(let buffer):
            reservation.release()
            return .json(buffer: buffer)
        case .streamed(let value, let pretty):
            let body = ResponseBody { writer in
                defer { reservation.release() }
                try await JSONStreamWriter.write(
                    value, pretty: pretty, chunkSize: Self.chunkSize, gate: delivery.encoders
                ) { chunk in
                    try await delivery.write(chunk, to: &writer, channel: channel)
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
        }
    }
}
