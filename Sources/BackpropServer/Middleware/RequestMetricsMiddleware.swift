import Dispatch
import HTTPTypes
import Hummingbird
import Metrics

/// Hummingbird's `MetricsMiddleware`, with the same metrics, names and dimensions, but
/// one that leaves a whole answer's body as it is.
///
/// Hummingbird's records a request after its body is written, by wrapping every body in
/// a closure. A body held in one buffer then loses Hummingbird's fast path (the head, the
/// body and the end in one write to the channel) and goes out in three writes, each a hop
/// to the event loop: measured, that cost a small request as much as its own work
/// (BENCHMARKS.md, "The lean lane"). An answer of known length, which is written at once,
/// is therefore recorded when the handler returns it; only a streamed one (no
/// `Content-Length`: a large answer, an event stream, a gzipped body) is recorded once
/// written, as before.
///
/// The metrics: `hb_requests` and `http_server_request_duration` by route, method and
/// status; `hb_request_errors` by route, method and error status; and
/// `http_server_active_requests` by method.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let cache = RequestMetrics()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let active = cache.active(request.method)
        active.increment()
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let metrics = cache.endpoint(.init(route: context.endpointPath ?? "NotFound", method: request.method, status: status))
            metrics.counter.increment()
            metrics.errors.increment()
            active.decrement()
            throw error
        }
        let metrics = cache.endpoint(.init(route: context.endpointPath ?? "Unknown", method: request.method, status: response.status))
        guard response.body.contentLength == nil else {
            Self.record(metrics, active, since: start)
            return response
        }
        var streamed = response
        let body = response.body
        streamed.body = ResponseBody { writer in
            defer { Self.record(metrics, active, since: start) }
            try await body.write(writer)
        }
        return streamed
    }

    /// Counts the request, times it from `start` and takes it off the active ones.
    private static func record(_ metrics: RequestMetrics.EndpointMetrics, _ active: Meter, since start: UInt64) {
        metrics.counter.increment()
        metrics.timer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
        active.decrement()
    }
}
