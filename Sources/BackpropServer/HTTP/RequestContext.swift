import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the connection's
/// channel, so a long computation can stop when its client goes away.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel
    /// Hummingbird's bound for its own body collectors. The service reads every body
    /// through `collectBody`, with `Configuration.maximumBodySize` as configured; this
    /// is the same bound's default, taken from `Configuration`, not repeated here.
    public var maxUploadSize: Int { Self.defaultMaximumBodySize }
    private static let defaultMaximumBodySize = Configuration().maximumBodySize
    /// This request's id (`RequestIDMiddleware`), echoed in `X-Request-Id` and in problems.
    public var requestID = ""

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
