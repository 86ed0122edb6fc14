import Foundation
import NIOCore
import Logging

/// Everything the service can be told at start: where to listen and its limits.
/// The executable fills it from flags and `BACKPROP_*` variables; tests build it directly.
public struct Configuration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The largest request body, in bytes (413 above it).
    public var maximumBodySize = 16 * 1024 * 1024
    /// The most weights and biases a network may have (422 above it).
    public var maximumParameters = 10_000_000
    /// The most work /train does synchronously, as epochs × samples × parameters
    /// (422 above it, pointing to training jobs).
    public var synchronousTrainingBudget = 20_000_000_000
    /// Threads computing at once.
    public var computeThreads = System.coreCount
    /// Computations waiting for a thread beyond those running (429 above it).
    public var computeQueue = 64
    /// A `/forward` or `/gradient` whose work (samples × parameters, read from its
    /// shape) is at most this, in a body of at most `inlineBodySize` bytes, runs where
    /// it arrives, on the handler's task, without the hop to the compute pool. Measured
    /// (`BackpropBenchmarks inline`, BENCHMARKS.md): a whole /gradient of work 72 in
    /// 1.6 KB takes about 35 µs, of work 272 in 5.7 KB about 80 µs. 0 sends every
    /// request to the pool.
    public var inlineWork = 128
    /// Bodies above this many bytes always go to the pool (parsing them is work too).
    public var inlineBodySize = 2048
    /// Dynamic batching: concurrent inference requests for the same stored network
    /// version (`/forward` without `trace`) are gathered into one matrix product of at
    /// most this many samples, each answered with the bits it would get alone. 1: off.
    public var batchMaxSize = 1
    /// Microseconds a batch waits for more requests before it is submitted to the
    /// compute pool; it still takes requests while it waits there for a thread. 0:
    /// submitted at once, so batches form only while the pool is busy.
    public var batchMaxWaitMicroseconds = 0
    /// Origins allowed by CORS; nil allows any origin.
    public var corsOrigins: [String]? = nil
    /// Training jobs waiting to start (429 above it); at most `computeThreads` run at once.
    public var jobQueue = 16
    /// Finished jobs kept for GET, at most this many...
    public var jobsKept = 100
    /// ...and for at most this many seconds.
    public var jobRetentionSeconds = 3600
    /// On shutdown, seconds running jobs may take to finish before they are cancelled.
    public var shutdownGraceSeconds = 10
    /// With a key, every route but /health needs `Authorization: Bearer <key>`.
    public var apiKey: String? = nil
    public var logLevel = Logger.Level.info
    /// Connections the kernel may queue before they are accepted (capped by
    /// `net.core.somaxconn`): a burst of new connections must not overflow it, or a
    /// client's connect waits a second for its SYN to be sent again.
    public var listenBacklog = 4096
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeoutSeconds = 60
    /// Seconds a request body may take to arrive (then the connection is closed).
    public var requestTimeoutSeconds = 30
    /// The memory budget in bytes: what the service holds for clients (bodies being
    /// received, answers not yet written, kept results, stream buffers) stays within
    /// it. Nil: three quarters of the container's memory limit, or of physical memory.
    public var memoryBudget: Int? = nil
    /// Bytes of stored networks kept in memory: all of them with the memory store
    /// (507 beyond), the parsed cache in front of PostgreSQL. Nil: a quarter of the
    /// memory budget. Counted in the budget as `networks`.
    public var networkMemory: Int? = nil

    /// A PostgreSQL URL (`postgres://user:password@host:port/database?sslmode=…`):
    /// jobs then live in that database, shared by every replica. Nil keeps them in
    /// this process's memory.
    public var databaseURL: DatabaseURL? = nil
    /// This replica's name in the job store (lease owner); default host name and pid.
    public var replicaID = Configuration.defaultReplicaID
    /// Seconds a claimed job's lease lasts without a heartbeat.
    public var leaseSeconds = 15
    /// Seconds between heartbeats that extend the leases of running jobs.
    public var heartbeatSeconds = 5
    /// Claims a job may have before it fails (a replica died running it each time).
    public var maxAttempts = 3
    /// A running job checkpoints at most this often (at an epoch's end).
    public var checkpointSeconds = 2

    public init() {}

    public static var defaultReplicaID: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}

/// The build's version, reported by /health and in openapi.yaml.
public let backpropVersion = "1.0.0"
