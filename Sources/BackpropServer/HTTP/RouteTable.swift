import Hummingbird
import NIOConcurrencyHelpers

/// The methods each path answers, read from the router once its routes are added:
/// the one table behind both routing and a 405's `Allow` header.
final class RouteTable: Sendable {
    private struct Route {
        /// The path's segments; nil where the route captures a parameter (`:id`).
        var segments: [Substring?]
        var methods: Set<HTTPRequest.Method>
    }

    /// The order methods are listed in `Allow`.
    private static let order: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete]
    private let routes = NIOLockedValueBox<[Route]>([])

    init() {}

    /// Takes the router's routes; a GET route answers HEAD too (the router makes those).
    func load(from router: Router<AppRequestContext>) {
        var table: [[Substring?]: Set<HTTPRequest.Method>] = [:]
        for route in router.routes {
            let segments = route.path.description.split(separator: "/").map { segment -> Substring? in
                segment.hasPrefix(":") || segment.hasPrefix("{") || segment.contains("*") ? nil : segment
            }
            table[segments, default: []].insert(route.method)
            if route.method == .get { table[segments, default: []].insert(.head) }
        }
        routes.withLockedValue { $0 = table.map { Route(segments: $0.key, methods: $0.value) } }
    }

    /// The methods `path` answers, in a fixed order; nil for a path no route matches.
    func allowedMethods(_ path: String) -> [HTTPRequest.Method]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let methods = routes.withLockedValue { routes in
            routes.filter { route in
                route.segments.count == parts.count
                    && zip(route.segments, parts).allSatisfy { segment, part in segment.map { $0 == part } ?? true }
            }
            .reduce(into: Set<HTTPRequest.Method>()) { $0.formUnion($1.methods) }
        }
        return methods.isEmpty ? nil : Self.order.filter(methods.contains)
    }
}
