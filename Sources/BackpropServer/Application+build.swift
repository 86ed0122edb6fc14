import CBackpropKernels
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import PostgresNIO
import Prometheus
import ServiceLifecycle

/// The Prometheus registry behind swift-metrics, bootstrapped once per process.
let metricsRegistry: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}()

/// Builds the service: the executable runs it, the tests drive it.
public func buildApplication(_ configuration: Configuration) -> some ApplicationProtocol {
    let metrics = metricsRegistry  // bootstraps swift-metrics before any metric is made
    var logger = Logger(label: "backprop")
    logger.logLevel = configuration.logLevel
    let pool = ComputePool(threads: configuration.computeThreads, queue: configuration.computeQueue)
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    let budget = makeMemoryBudget(configuration, logger: logger)
    router.add(middleware: CompressionMiddleware(budget: budget))
    router.add(middleware: RequestIDMiddleware())
    if configuration.logLevel <= .info {
        // Every request is logged at info; below that level the middleware would only cost.
        router.add(middleware: LogRequestsMiddleware(.info))
    }
    router.add(middleware: RequestMetricsMiddleware())
    let origin: CORSMiddleware<AppRequestContext>.AllowOriginExtended =
        switch configuration.corsOrigins {
        case nil: .all
        case let origins? where origins.isEmpty: .none
        case let origins?: .custom(origins.joined(separator: " "))
        }
    router.add(
        middleware: CORSMiddleware(
            allowOrigin: origin,
            allowHeaders: [
                .accept, .authorization, .contentType, .contentEncoding, .origin, HTTPField.Name("Last-Event-ID")!,
                HTTPField.Name("Idempotency-Key")!, RequestIDMiddleware.header, .ifMatch, .ifNoneMatch,
                InferenceResponse.headerLength,
            ],
            allowMethods: [.get, .post, .put, .delete, .head, .options],
            exposedHeaders: ["Location", "Retry-After", "X-Request-Id", "ETag", "Inference-Header-Content-Length"], maxAge: .seconds(600)))
    // Outside the API key's check and ProblemMiddleware: every error on /v2 is {"error": ...}.
    router.add(middleware: InferenceErrorMiddleware())
    if let apiKey = configuration.apiKey, !apiKey.isEmpty {
        router.add(middleware: APIKeyMiddleware(key: Array(apiKey.utf8)))
    }
    let routeTable = RouteTable()
    router.add(middleware: ProblemMiddleware(allowedMethods: routeTable.allowedMethods))
    let limits = Limits(configuration)
    let grace = Duration.seconds(configuration.shutdownGraceSeconds)
    let (store, networks, storeServices) = makeStores(configuration, limits: limits, budget: budget, logger: logger)
    let readDeadlines = ConnectionDeadlines(timeout: .seconds(configuration.requestTimeoutSeconds))
    let delivery = Delivery(
        budget: budget, deadlines: readDeadlines, writeTimeout: .seconds(configuration.idleTimeoutSeconds),
        encoders: .forCores(System.coreCount))
    let jobs = JobController(
        store: store, pool: pool, limits: limits, maximumBodySize: configuration.maximumBodySize,
        delivery: delivery, grace: grace, networks: networks)
    jobs.addRoutes(to: router)
    // Stored-network inference, batching concurrent calls (one batcher for every route).
    let inference = NetworkInference(
        pool: pool, batchMaxSize: configuration.batchMaxSize,
        batchMaxWaitMicroseconds: configuration.batchMaxWaitMicroseconds)
    let compute = ComputeController(
        pool: pool, limits: limits, maximumBodySize: configuration.maximumBodySize, delivery: delivery,
        inlineWork: configuration.inlineWork, inlineBodySize: configuration.inlineBodySize, jobs: jobs,
        networks: networks, inference: inference)
    compute.addRoutes(to: router)
    NetworkController(
        store: networks, pool: pool, limits: limits, maximumBodySize: configuration.maximumBodySize,
        delivery: delivery, compute: compute
    )
    .addRoutes(to: router)
    InferenceController(
        store: networks, inference: inference, pool: pool,
        maximumBodySize: configuration.maximumBodySize, inlineBodySize: configuration.inlineBodySize, delivery: delivery
    )
    .addRoutes(to: router)
    PlaygroundController().addRoutes(to: router)
    OperationsController(
        registry: metrics, jobs: store, pools: [pool, store.pool], budget: budget,
        specification: OperationsController.bundledSpecification()
    )
    .addRoutes(to: router)
    routeTable.load(from: router)
    return Application(
        router: router,
        server: .http1(
            configuration: .init(
                additionalChannelHandlers: [DisconnectHandler(), BodyGate(smallBody: budget.smallLimit)],
                idleTimeout: .seconds(Int64(configuration.idleTimeoutSeconds)))),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "backprop",
            backlog: configuration.listenBacklog),
        // Shut down in reverse: the server drains, then jobs end (or are handed back),
        // then the pools stop, then the request-read timeout's sweep (which cuts off slow
        // bodies during the drain), and last the job store's loops and its database client.
        services: storeServices + [
            readDeadlines, budget, ComputePoolService(pool: pool), ComputePoolService(pool: store.pool),
            JobService(registry: store, grace: grace),
        ],
        logger: logger)
}

/// The job and network stores the configuration asks for: both in PostgreSQL with a
/// database URL, on one client (which, with the job store's loops, runs as services
/// that start first and stop last), else both in memory.
func makeStores(
    _ configuration: Configuration, limits: Limits, budget: MemoryBudget, logger: Logger
) -> (jobs: any JobStore & PooledJobStore, networks: any NetworkStore, services: [any Service]) {
    // Stored networks (or, in PostgreSQL, the cache of parsed ones) may use a quarter of the budget.
    let networkMemory = configuration.networkMemory ?? budget.total / 4
    guard let url = configuration.databaseURL else {
        let networks = MemoryNetworkStore(limit: networkMemory, budget: budget)
        // Kept results may use a quarter of the memory budget.
        let store = MemoryJobStore(
            bounds: .init(
                running: configuration.computeThreads, queued: configuration.jobQueue, kept: configuration.jobsKept,
                retention: .seconds(configuration.jobRetentionSeconds), resultBytes: budget.total / 4),
            budget: budget, networks: networks)
        return (store, networks, [])
    }
    let client = PostgresClient(configuration: url.clientConfiguration(), backgroundLogger: logger)
    let networks = PostgresNetworkStore(
        client: client, cacheLimit: networkMemory, budget: budget, logger: logger)
    let store = PostgresJobStore(
        url: url, client: client, networks: networks,
        settings: .init(
            replicaID: configuration.replicaID, leaseSeconds: configuration.leaseSeconds,
            heartbeatSeconds: configuration.heartbeatSeconds, maxAttempts: configuration.maxAttempts,
            checkpointSeconds: configuration.checkpointSeconds, slots: configuration.computeThreads,
            queueLimit: configuration.jobQueue, kept: configuration.jobsKept,
            retentionSeconds: configuration.jobRetentionSeconds),
        limits: limits, logger: logger)
    store.listener.onNetworkChange { name in Task { await networks.networkChanged(name) } }
    return (store, networks, [client, PostgresJobStore.Service(store: store)])
}

/// The memory budget the configuration asks for, or the default; the figure is logged.
func makeMemoryBudget(_ configuration: Configuration, logger: Logger) -> MemoryBudget {
    let (total, source) = configuration.memoryBudget.map { ($0, "--memory-budget") } ?? MemoryBudget.defaultTotal()
    let budget = MemoryBudget(total: total)
    // Blocks of 1 MiB and more (bodies, answers, networks) go back to the system when
    // freed, so the process's memory follows what the budget holds.
    _ = bp_return_large_blocks_to_the_system(1 << 20)
    logger.info(
        "memory budget",
        metadata: [
            "bytes": "\(budget.total)", "source": "\(source)", "small_request_reserve": "\(budget.smallReserve)",
        ])
    return budget
}

/// A job store with its own pool of job threads.
protocol PooledJobStore { var pool: ComputePool { get } }
extension MemoryJobStore: PooledJobStore {}
extension PostgresJobStore: PooledJobStore {}
