import Foundation
import Hummingbird
import NIOCore
import Metrics
import Prometheus

/// GET /health, /metrics and /openapi.yaml.
struct OperationsController {
    let registry: PrometheusCollectorRegistry
    let jobs: JobRegistry
    /// The compute pools, whose gauges are recorded when /metrics is scraped.
    let pools: [ComputePool]
    let specification: [UInt8]?

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health") { request, _ in
            let pretty = try request.prettyFlag()
            return Response.json(
                .object([("status", .string("ok")), ("version", .string(backpropVersion))]), pretty: pretty)
        }
        router.get("/metrics") { _, _ in
            jobs.recordStatusCounts()
            for pool in pools { pool.recordGauges() }
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
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
