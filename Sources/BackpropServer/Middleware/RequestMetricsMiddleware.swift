import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import NIOConcurrencyHelpers

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
        let record: @Sendable () -> Void = {
            metrics.counter.increment()
            metrics.timer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
            active.decrement()
        }
        guard response.body.contentLength == nil else {
            record()
            return response
        }
        var streamed = response
        let body = response.body
        streamed.body = ResponseBody { writer in
            defer { record() }
            try await body.write(writer)
        }
        return streamed
    }
}

/// The metric objects of `RequestMetricsMiddleware`, made once per route, method and status.
final class RequestMetrics: Sendable {
    struct Endpoint: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: HTTPResponse.Status
    }

    struct EndpointMetrics: Sendable {
        let counter: Counter
        let timer: Timer
        let errors: Counter

        init(_ id: Endpoint) {
            let dimensions = [
                ("http.route", id.route), ("http.request.method", id.method.rawValue),
                ("http.response.status_code", String(id.status.code)),
            ]
            counter = Counter(label: "hb.requests", dimensions: dimensions)
            timer = Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            errors = Counter(
                label: "hb.request.errors",
                dimensions: [
                    ("http.route", id.route), ("http.request.method", id.method.rawValue),
                    ("error.type", String(id.status.code)),
                ])
        }
    }

    private let state = NIOLockedValueBox(State())

    private struct State {
        var active: [HTTPRequest.Method: Meter] = [:]
        var endpoints: [Endpoint: EndpointMetrics] = [:]
    }

    func active(_ method: HTTPRequest.Method) -> Meter {
        state.withLockedValue { state in
            if let meter = state.active[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            state.active[method] = meter
            return meter
        }
    }

    func endpoint(_ id: Endpoint) -> EndpointMetrics {
        state.withLockedValue { state in
            if let metrics = state.endpoints[id] { return metrics }
            let metrics = EndpointMetrics(id)
            state.endpoints[id] = metrics
            return metrics
        }
    }
}
