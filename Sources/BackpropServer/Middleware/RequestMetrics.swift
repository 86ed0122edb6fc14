import HTTPTypes
import Metrics
import NIOConcurrencyHelpers

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
