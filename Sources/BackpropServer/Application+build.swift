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

/// The methods a path answers (405's `Allow` comes from here); nil for an unknown path.
func allowedMethods(_ path: String) -> [HTTPRequest.Method]? {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
    switch Array(parts) {
    case ["forward"], ["gradient"], ["train"]: return [.post]
    case [""], ["health"], ["metrics"], ["openapi.yaml"]: return [.get, .head]
    case let p where p.count == 2 && p[0] == "playground": return [.get, .head]
    case ["train", "jobs"]: return [.get, .head, .post]
    case let p where p.count == 3 && p[0] == "train" && p[1] == "jobs": return [.get, .head, .delete]
    case let p where p.count == 4 && p[0] == "train" && p[1] == "jobs" && p[3] == "events": return [.get, .head]
    default: return nil
    }
}

/// Builds the service: the executable runs it, the tests drive it.
public func buildApplication(_ configuration: Configuration) -> some ApplicationProtocol {
    let metrics = metricsRegistry  // bootstraps swift-metrics before any metric is made
    var logger = Logger(label: "backprop")
    logger.logLevel = configuration.logLevel
    let pool = ComputePool(threads: configuration.computeThreads, queue: configuration.computeQueue)
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    if configuration.logLevel <= .info {
        // Every request is logged at info; below that level the middleware would only cost.
        router.add(middleware: LogRequestsMiddleware(.info))
    }
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
    if let apiKey = configuration.apiKey, !apiKey.isEmpty {
        router.add(middleware: APIKeyMiddleware(key: Array(apiKey.utf8)))
    }
    router.add(middleware: ProblemMiddleware(allowedMethods: allowedMethods))
    let limits = Limits(
        maximumParameters: configuration.maximumParameters,
        synchronousTrainingBudget: configuration.synchronousTrainingBudget)
    let grace = Duration.seconds(configuration.shutdownGraceSeconds)
    let registry = JobRegistry(
        limits: .init(
            running: configuration.computeThreads, queued: configuration.jobQueue, kept: configuration.jobsKept,
            retention: .seconds(configuration.jobRetentionSeconds)))
    let readDeadlines = RequestReadDeadlines(timeout: .seconds(configuration.requestTimeoutSeconds))
    let jobs = JobController(
        registry: registry, pool: pool, limits: limits, maximumBodySize: configuration.maximumBodySize,
        readDeadlines: readDeadlines, grace: grace)
    jobs.addRoutes(to: router)
    ComputeController(
        pool: pool, limits: limits, maximumBodySize: configuration.maximumBodySize, readDeadlines: readDeadlines,
        jobs: jobs)
        .addRoutes(to: router)
    PlaygroundController().addRoutes(to: router)
    OperationsController(
        registry: metrics, jobs: registry, pools: [pool, registry.pool],
        specification: OperationsController.bundledSpecification()
    )
    .addRoutes(to: router)
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [DisconnectHandler()],
                idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "backprop"),
        // Shut down in reverse: the server drains, then jobs end, then the pools stop,
        // and last the request-read timeout's sweep (which cuts off slow bodies during the drain).
        services: [
            readDeadlines, ComputePoolService(pool: pool), ComputePoolService(pool: registry.pool),
            JobService(registry: registry, grace: grace),
        ],
        logger: logger)
}
