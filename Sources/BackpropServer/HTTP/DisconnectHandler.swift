import NIOConcurrencyHelpers
import NIOCore

/// Watches a connection's input for its end (see `ConnectionWatch`).
final class DisconnectHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    // Only events are watched; reads pass through untouched.
    typealias InboundIn = Any

    let watch = ConnectionWatch()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event { watch.disconnected() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        watch.disconnected()
        context.fireChannelInactive()
    }
}
