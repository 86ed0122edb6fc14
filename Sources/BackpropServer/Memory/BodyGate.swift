import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Backpressure on the socket for large request bodies: a connection whose request
/// declares a body over `smallBody` bytes (or a chunked one) is not read any further
/// until its handler has a memory reservation for the body and calls `open()`. A
/// slow or waiting upload thus holds at most what one read brought in with its head,
/// and slows only itself.
///
/// The gate also opens when the response's head goes out (a route that answers
/// without reading the body, such as a 401 or 404, lets the server skip the rest) and
/// on the next request's head, except for a response with `Connection: close` (the
/// memory budget's 503 for a body that found no room): then the body is never read,
/// and the connection is closed once the response is written. Its state lives on the
/// connection's event loop; `open()` may be called from anywhere and hops there.
final class BodyGate: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let smallBody: Int
    // Event-loop state (hence @unchecked Sendable): touched only in the handler's
    // callbacks and in the closure `open()` runs on the loop.
    private var closed = false
    private var readPending = false
    /// The response being written ends the connection.
    private var closing = false
    private var context: ChannelHandlerContext?

    init(smallBody: Int) {
        self.smallBody = smallBody
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // One socket read per wake-up (NIO's default is four): what a waiting upload
        // brought in with its head is then at most one read buffer (64 KiB), not four.
        try? context.channel.syncOptions?.setOption(ChannelOptions.maxMessagesPerRead, value: 1)
    }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            closed = Self.declaresLargeBody(head, over: smallBody)
        }
        context.fireChannelRead(data)
    }

    /// True if the request's body may be larger than `limit`: its Content-Length says
    /// so, or it has no length (chunked).
    static func declaresLargeBody(_ head: HTTPRequest, over limit: Int) -> Bool {
        if let length = head.headerFields[.contentLength] {
            return Int(length).map { $0 > limit } ?? false
        }
        return head.headerFields[.transferEncoding] != nil
    }

    func read(context: ChannelHandlerContext) {
        if closed {
            readPending = true
        } else {
            context.read()
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            closing = response.headerFields[.connection] == "close"
            if !closing { letIn() }
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closing else {
                context.write(data, promise: promise)
                return
            }
            // Draining an unread upload of megabytes only to close anyway would cost
            // the event loop; close as soon as the answer is out instead.
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            written.futureResult.whenComplete { _ in context.close(promise: nil) }
            context.write(data, promise: written)
        }
    }

    /// Lets the body in: the handler holds room for it.
    func open(on eventLoop: any EventLoop) {
        eventLoop.execute { self.letIn() }
    }

    private func letIn() {
        closed = false
        if readPending, let context {
            readPending = false
            context.read()
        }
    }
}
