import Foundation
import Hummingbird
import NIOCore
import Prometheus

/// GET /health, /metrics and /openapi.yaml.
struct OperationsController {
    let registry: PrometheusCollectorRegistry
    let specification: [UInt8]?

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/health") { request, _ in
            let pretty = try request.prettyFlag()
            return Response.json(
                .object([("status", .string("ok")), ("version", .string(backpropVersion))]), pretty: pretty)
        }
        router.get("/metrics") { _, _ in
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

    /// The bundled openapi.yaml, looked up beside the executable (where SwiftPM and
    /// the Docker image put the resource bundle) rather than through `Bundle.module`,
    /// which stops the process when the bundle is missing.
    static func bundledSpecification() -> [UInt8]? {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let directories = [executable.deletingLastPathComponent(), Bundle.main.bundleURL]
        for directory in directories {
            let url = directory.appendingPathComponent("backprop_BackpropServer.resources/openapi.yaml")
            if let data = try? Data(contentsOf: url) { return [UInt8](data) }
        }
        return nil
    }
}
