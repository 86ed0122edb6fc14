import Hummingbird

/// With an API key configured, every route but the probes (/health, /health/live,
/// /health/ready, and the Open Inference Protocol's /v2/health/live and /v2/health/ready)
/// and CORS preflights
/// needs `Authorization: Bearer <key>`; otherwise a 401 problem.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let key: [UInt8]
    static let probes: Set<String> = ["/health", "/health/live", "/health/ready", "/v2/health/live", "/v2/health/ready"]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if Self.probes.contains(request.uri.path) || request.method == .options {
            return try await next(request, context)
        }
        let header = request.headers[.authorization] ?? ""
        let prefix = "Bearer "
        guard header.hasPrefix(prefix), Self.constantTimeEqual(Array(header.utf8.dropFirst(prefix.utf8.count)), key) else {
            throw Problem(
                .unauthorized, title: "Unauthorized",
                detail: header.isEmpty
                    ? "this server needs an API key: send Authorization: Bearer <key>"
                    : "the API key is not valid",
                headers: [.wwwAuthenticate: "Bearer"])
        }
        return try await next(request, context)
    }

    /// Compares in time that depends only on the lengths, not on where the bytes differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
