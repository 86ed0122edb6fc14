import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import Metrics
import Prometheus

/// GET /health, /health/live, /health/ready, /metrics and /openapi.yaml.
struct OperationsController {
    let registry: PrometheusCollectorRegistry
    let jobs: any JobStore
    /// The compute pools, whose gauges are recorded when /metrics is scraped.
    let pools: [ComputePool]
    /// The memory budget, whose gauges are recorded when /metrics is scraped.
    let budget: MemoryBudget
    let specification: [UInt8]?
    /// One scrape at a time records its gauges and emits them. The registry is the
    /// process's; in a process with several applications (the tests), another's gauges
    /// must not be recorded between this one's record and its emit.
    private static let scraping = NIOLockedValueBox(())

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health") { request, _ in
            let pretty = try request.prettyFlag()
            return Response.json(
                .object([("status", .string("ok")), ("version", .string(backpropVersion))]), pretty: pretty)
        }
        // Liveness: the process serves HTTP. Readiness: it should get traffic (not
        // draining, and its job store reachable); /forward and /gradient work either way.
        router.get("/health/live") { request, _ in
            Response.json(.object([("status", .string("ok"))]), pretty: try request.prettyFlag())
        }
        router.get("/health/ready") { request, _ in
            let pretty = try request.prettyFlag()
            let readiness = jobs.readiness
            guard readiness.ready else {
                var response = Response.json(
                    .object([("status", .string("unavailable")), ("reason", .string(readiness.reason ?? "not ready"))]),
                    status: .serviceUnavailable, pretty: pretty)
                response.headers[.retryAfter] = "1"
                return response
            }
            return Response.json(.object([("status", .string("ready"))]), pretty: pretty)
        }
        router.get("/metrics") { _, _ in
            let jobGauges = await jobs.gauges()
            let bytes = Self.scraping.withLockedValue { _ in
                jobGauges.record()
                for pool in pools { pool.recordGauges() }
                budget.recordMetrics()
                var bytes: [UInt8] = []
                registry.emit(into: &bytes)
                return bytes
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/openapi.yaml") { _, _ in
            guard let specification else {
                throw Problem(
                    .serviceUnavailable, title: "Specification missing",
                    detail: "openapi.yaml was not bundled with this build")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: specification)))
        }
    }

    /// The bundled openapi.yaml.
    static func bundledSpecification() -> [UInt8]? {
        Resources.directory.flatMap { try? Data(contentsOf: $0.appendingPathComponent("openapi.yaml")) }.map { [UInt8]($0) }
    }
}
