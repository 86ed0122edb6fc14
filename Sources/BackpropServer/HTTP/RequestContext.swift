import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the connection's
/// channel, so a long computation can stop when its client goes away.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    public var maxUploadSize: Int
    /// This request's id (`RequestIDMiddleware`), echoed in `X-Request-Id` and in problems.
    public var requestID = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
        maxUploadSize = 16 * 1024 * 1024
    }
}
