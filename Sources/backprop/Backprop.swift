import Foundation
import ArgumentParser
import BackpropServer
import Hummingbird
import Logging

/// Reads the configuration from flags (or `BACKPROP_*` variables) and runs the service.
@main
struct Backprop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backprop",
        abstract: "An HTTP JSON service for forward passes, backpropagation gradients and gradient-descent training.",
        discussion: """
            Every option can also be set by an environment variable: BACKPROP_ and the option's \
            name in capitals with underscores (BACKPROP_PORT, BACKPROP_MAX_BODY_SIZE, ...). \
            A flag wins over the variable. SIGTERM or SIGINT shut down gracefully: in-flight \
            requests finish, new connections are refused, running training jobs get \
            --shutdown-grace seconds to finish before they are cancelled.
            """)

    /// Every default is Configuration's own.
    private static let defaults = Configuration()

    @Option(help: "The address to listen on (BACKPROP_HOST).")
    var host = environment("HOST") ?? Self.defaults.host

    @Option(help: "The port to listen on (BACKPROP_PORT).")
    var port = environment("PORT").flatMap(Int.init) ?? Self.defaults.port

    @Option(help: "The largest request body in bytes; larger is a 413 (BACKPROP_MAX_BODY_SIZE).")
    var maxBodySize = environment("MAX_BODY_SIZE").flatMap(Int.init) ?? Self.defaults.maximumBodySize

    @Option(help: "The most weights and biases a network may have; more is a 422 (BACKPROP_MAX_PARAMETERS).")
    var maxParameters = environment("MAX_PARAMETERS").flatMap(Int.init) ?? Self.defaults.maximumParameters

    @Option(help: """
        The most work POST /train does synchronously, in epochs × samples × parameters; \
        more is a 422 pointing to training jobs (BACKPROP_TRAIN_BUDGET).
        """)
    var trainBudget = environment("TRAIN_BUDGET").flatMap(Int.init) ?? Self.defaults.synchronousTrainingBudget

    @Option(help: "Compute threads; default: the number of cores (BACKPROP_COMPUTE_THREADS).")
    var computeThreads = environment("COMPUTE_THREADS").flatMap(Int.init) ?? Self.defaults.computeThreads

    @Option(help: "Computations that may wait for a thread; beyond that is a 429 (BACKPROP_COMPUTE_QUEUE).")
    var computeQueue = environment("COMPUTE_QUEUE").flatMap(Int.init) ?? Self.defaults.computeQueue

    @Option(help: """
        A /forward or /gradient whose work (samples × parameters) is at most this, in a body \
        of at most 2 KiB, runs at once on its handler's task instead of the compute pool; 0: \
        never (BACKPROP_INLINE_WORK).
        """)
    var inlineWork = environment("INLINE_WORK").flatMap(Int.init) ?? Self.defaults.inlineWork

    @Option(help: """
        Dynamic batching: concurrent inference requests for the same stored network version \
        (/forward without trace) are gathered into one matrix product of at most this many \
        samples; 1: off (BACKPROP_BATCH_MAX_SIZE).
        """)
    var batchMaxSize = environment("BATCH_MAX_SIZE").flatMap(Int.init) ?? Self.defaults.batchMaxSize

    @Option(help: """
        Microseconds a batch waits for more requests before it goes to the compute pool (it \
        still takes requests until a thread starts it); 0: at once (BACKPROP_BATCH_MAX_WAIT_US).
        """)
    var batchMaxWaitUs = environment("BATCH_MAX_WAIT_US").flatMap(Int.init) ?? Self.defaults.batchMaxWaitMicroseconds

    @Option(help: "Training jobs that may wait to start; beyond that is a 429 (BACKPROP_JOB_QUEUE).")
    var jobQueue = environment("JOB_QUEUE").flatMap(Int.init) ?? Self.defaults.jobQueue

    @Option(help: "Finished training jobs kept for GET (BACKPROP_JOBS_KEPT).")
    var jobsKept = environment("JOBS_KEPT").flatMap(Int.init) ?? Self.defaults.jobsKept

    @Option(help: "Seconds a finished training job is kept (BACKPROP_JOB_RETENTION).")
    var jobRetention = environment("JOB_RETENTION").flatMap(Int.init) ?? Self.defaults.jobRetentionSeconds

    @Option(help: """
        On SIGTERM, seconds running jobs may take to finish before they are cancelled \
        (BACKPROP_SHUTDOWN_GRACE).
        """)
    var shutdownGrace = environment("SHUTDOWN_GRACE").flatMap(Int.init) ?? Self.defaults.shutdownGraceSeconds

    @Option(help: """
        The origin CORS allows: '*' for any (the default), an origin such as https://example.com, \
        or 'none' (BACKPROP_CORS_ORIGIN).
        """)
    var corsOrigin = environment("CORS_ORIGIN") ?? "*"

    @Option(help: "Seconds an idle keep-alive connection stays open (BACKPROP_IDLE_TIMEOUT).")
    var idleTimeout = environment("IDLE_TIMEOUT").flatMap(Int.init) ?? Self.defaults.idleTimeoutSeconds

    @Option(help: """
        An API key: every route but /health then needs 'Authorization: Bearer <key>' (BACKPROP_API_KEY; \
        prefer the variable, since flags show in the process list).
        """)
    var apiKey: String?

    @Option(help: "Seconds a request body may take to arrive; after that the connection is closed (BACKPROP_REQUEST_TIMEOUT).")
    var requestTimeout = environment("REQUEST_TIMEOUT").flatMap(Int.init) ?? Self.defaults.requestTimeoutSeconds

    @Option(help: """
        A PostgreSQL URL, postgres://user:password@host:port/database?sslmode=…: training jobs then \
        live in that database, shared by every replica, and survive restarts. Without it they are \
        kept in this process's memory (BACKPROP_DATABASE_URL; prefer the variable, since flags \
        show in the process list).
        """)
    var databaseURL: String?

    @Option(help: "This replica's name in the job store; default host name and pid (BACKPROP_REPLICA_ID).")
    var replicaID = environment("REPLICA_ID") ?? Self.defaults.replicaID

    @Option(help: "Seconds a claimed job's lease lasts without a heartbeat (BACKPROP_LEASE_SECONDS).")
    var leaseSeconds = environment("LEASE_SECONDS").flatMap(Int.init) ?? Self.defaults.leaseSeconds

    @Option(help: "Seconds between the heartbeats that extend running jobs' leases (BACKPROP_HEARTBEAT_SECONDS).")
    var heartbeatSeconds = environment("HEARTBEAT_SECONDS").flatMap(Int.init) ?? Self.defaults.heartbeatSeconds

    @Option(help: "Claims a job may have before it fails, each ended by a replica stopping (BACKPROP_MAX_ATTEMPTS).")
    var maxAttempts = environment("MAX_ATTEMPTS").flatMap(Int.init) ?? Self.defaults.maxAttempts

    @Option(help: "A running job checkpoints at most this often, in seconds (BACKPROP_CHECKPOINT_SECONDS).")
    var checkpointSeconds = environment("CHECKPOINT_SECONDS").flatMap(Int.init) ?? Self.defaults.checkpointSeconds

    @Option(help: """
        Bytes the service may hold for clients: bodies being received, answers not yet written, \
        kept job results, stream buffers. Past it, large bodies wait unread and then get a 503. \
        Default: 3/4 of the container's memory limit, or of physical memory (BACKPROP_MEMORY_BUDGET).
        """)
    var memoryBudget = environment("MEMORY_BUDGET").flatMap(Int.init) ?? Self.defaults.memoryBudget

    @Option(help: """
        Bytes of stored networks kept in memory: all of them with the memory store (a 507 beyond), \
        the parsed cache in front of PostgreSQL with --database-url. Default: 1/4 of the memory \
        budget (BACKPROP_NETWORK_MEMORY).
        """)
    var networkMemory = environment("NETWORK_MEMORY").flatMap(Int.init) ?? Self.defaults.networkMemory

    @Option(help: "trace, debug, info, notice, warning, error or critical (BACKPROP_LOG_LEVEL).")
    var logLevel = environment("LOG_LEVEL") ?? Self.defaults.logLevel.rawValue

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        for (name, value) in [
            ("--max-body-size", maxBodySize), ("--max-parameters", maxParameters), ("--train-budget", trainBudget),
            ("--compute-threads", computeThreads), ("--idle-timeout", idleTimeout), ("--request-timeout", requestTimeout),
            ("--lease-seconds", leaseSeconds), ("--heartbeat-seconds", heartbeatSeconds), ("--max-attempts", maxAttempts),
            ("--checkpoint-seconds", checkpointSeconds), ("--batch-max-size", batchMaxSize),
        ] where value < 1 {
            throw ValidationError("\(name) must be at least 1")
        }
        for (name, value) in [
            ("--compute-queue", computeQueue), ("--job-queue", jobQueue), ("--jobs-kept", jobsKept),
            ("--job-retention", jobRetention), ("--shutdown-grace", shutdownGrace), ("--inline-work", inlineWork),
            ("--batch-max-wait-us", batchMaxWaitUs),
        ] where value < 0 {
            throw ValidationError("\(name) must be at least 0")
        }
        if let networkMemory, networkMemory < 0 { throw ValidationError("--network-memory must be at least 0") }
        if let memoryBudget, memoryBudget < 16 << 20 {
            throw ValidationError("--memory-budget must be at least 16 MiB (16777216)")
        }
        guard heartbeatSeconds < leaseSeconds else {
            throw ValidationError("--heartbeat-seconds must be less than --lease-seconds, so that leases are renewed in time")
        }
        if let url = databaseURLText {
            do { _ = try DatabaseURL(url) } catch { throw ValidationError("--database-url: \(error)") }
        }
    }

    /// The flag, else the variable.
    private var databaseURLText: String? { databaseURL ?? environment("DATABASE_URL") }

    func run() async throws {
        var configuration = Configuration()
        configuration.host = host
        configuration.port = port
        configuration.maximumBodySize = maxBodySize
        configuration.maximumParameters = maxParameters
        configuration.synchronousTrainingBudget = trainBudget
        configuration.computeThreads = computeThreads
        configuration.computeQueue = computeQueue
        configuration.corsOrigins = corsOrigin == "*" ? nil : (corsOrigin == "none" ? [] : [corsOrigin])
        configuration.idleTimeoutSeconds = idleTimeout
        configuration.requestTimeoutSeconds = requestTimeout
        configuration.jobQueue = jobQueue
        configuration.jobsKept = jobsKept
        configuration.jobRetentionSeconds = jobRetention
        configuration.shutdownGraceSeconds = shutdownGrace
        configuration.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        configuration.apiKey = apiKey ?? environment("API_KEY")
        configuration.databaseURL = try databaseURLText.map { try DatabaseURL($0) }
        configuration.replicaID = replicaID
        configuration.leaseSeconds = leaseSeconds
        configuration.heartbeatSeconds = heartbeatSeconds
        configuration.maxAttempts = maxAttempts
        configuration.checkpointSeconds = checkpointSeconds
        configuration.memoryBudget = memoryBudget
        configuration.networkMemory = networkMemory
        configuration.inlineWork = inlineWork
        configuration.batchMaxSize = batchMaxSize
        configuration.batchMaxWaitMicroseconds = batchMaxWaitUs
        try await buildApplication(configuration).runService()
    }
}

/// The value of `BACKPROP_<name>`, if set.
private func environment(_ name: String) -> String? {
    getenv("BACKPROP_" + name).map { String(cString: $0) }
}
