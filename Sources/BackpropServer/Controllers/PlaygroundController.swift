import Foundation
import Hummingbird
import NIOCore

/// The playground: static files bundled as resources, read once at start and
/// served at GET / and GET /playground/{file}. No build step, no CDN.
struct PlaygroundController {
    struct File {
        let bytes: ByteBuffer
        let contentType: String
    }

    let files: [String: File]

    init() {
        var files: [String: File] = [:]
        if let directory = Resources.directory?.appendingPathComponent("Playground"),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
        {
            for name in names {
                guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else { continue }
                files[name] = File(bytes: ByteBuffer(bytes: data), contentType: Self.contentType(name))
            }
        }
        self.files = files
    }

    static func contentType(_ name: String) -> String {
        switch name.split(separator: ".").last {
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        case "js": "text/javascript; charset=utf-8"
        case "svg": "image/svg+xml"
        case "json": "application/json"
        default: "application/octet-stream"
        }
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/") { _, _ in try response("index.html") }
        router.get("/playground/:file") { _, context in try response(context.parameters.get("file") ?? "") }
    }

    private func response(_ name: String) throws(Problem) -> Response {
        guard let file = files[name] else {
            throw Problem(.notFound, title: "Not found", detail: "there is no playground file \(name)")
        }
        return Response(
            status: .ok, headers: [.contentType: file.contentType, .cacheControl: "no-cache"],
            body: ResponseBody(byteBuffer: file.bytes))
    }
}
