import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Prometheus

/// The Prometheus registry behind swift-metrics, bootstrapped once per process.
let metricsRegistry: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}()

/// The paths and the methods they answer (405 `Allow` comes from here).
let routeTable: [String: [HTTPRequest.Method]] = [
    "/forward": [.post], "/gradient": [.post], "/train": [.post],
    "/health": [.get, .head], "/metrics": [.get, .head], "/openapi.yaml": [.get, .head],
]

/// Builds the service: the executable runs it, the tests drive it.
public func buildApplication(_ configuration: Configuration) -> some ApplicationProtocol {
    var logger = Logger(label: "backprop")
    logger.logLevel = configuration.logLevel
    let pool = ComputePool(threads: configuration.computeThreads, queue: configuration.computeQueue)
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: MetricsMiddleware())
    let origin: CORSMiddleware<AppRequestContext>.AllowOriginExtended =
        switch configuration.corsOrigins {
        case nil: .all
        case let origins? where origins.isEmpty: .none
        case let origins?: .custom(origins.joined(separator: " "))
        }
    router.add(
        middleware: CORSMiddleware(
            allowOrigin: origin, allowHeaders: [.accept, .authorization, .contentType, .origin, HTTPField.Name("Last-Event-ID")!],
            allowMethods: [.get, .post, .delete, .head, .options], maxAge: .seconds(600)))
    router.add(middleware: ProblemMiddleware(routes: routeTable))
    let limits = Limits(
        maximumParameters: configuration.maximumParameters,
        synchronousTrainingBudget: configuration.synchronousTrainingBudget)
    ComputeController(pool: pool, limits: limits, maximumBodySize: configuration.maximumBodySize)
        .addRoutes(to: router)
    OperationsController(registry: metricsRegistry, specification: OperationsController.bundledSpecification())
        .addRoutes(to: router)
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [DisconnectHandler()],
                idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "backprop"),
        services: [ComputePoolService(pool: pool)],
        logger: logger)
}
