import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import ServiceLifecycle

/// Start-up, heartbeats, the sweep for expired leases, retention and shutdown.
extension PostgresJobStore {
    /// The store's background work, as a service beside the HTTP server: connect and
    /// migrate (retried with backoff; wrong credentials end the process), then the
    /// listener, claim, heartbeat and sweep loops until the service stops.
    struct Service: ServiceLifecycle.Service {
        let store: PostgresJobStore

        func run() async throws {
            try await cancelWhenGracefulShutdown {
                try await store.prepareDatabase()
                await store.serve()
            }
        }
    }

    /// Connects (again after a pause while the database cannot be reached) and applies
    /// the migrations. A refusal that waiting cannot fix (credentials, a missing
    /// database) is thrown, with PostgreSQL's message and never the password.
    func prepareDatabase() async throws {
        var pause = Duration.milliseconds(250)
        var attempt = 0
        while true {
            attempt += 1
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try url.connectionConfiguration(), id: 1, logger: logger)
                defer { Task { try? await connection.close() } }
                try await PostgresMigrations.apply(on: connection, logger: logger)
                logger.info("job store ready", metadata: ["database": "\(url)", "replica": "\(settings.replicaID)"])
                return
            } catch {
                if let fatal = Self.fatal(error) { throw fatal }
                try Task.checkCancellation()
                logger.warning(
                    "job store not reachable; retrying",
                    metadata: ["database": "\(url)", "attempt": "\(attempt)", "error": "\(Self.describe(error))"])
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(10))
            }
        }
    }

    /// An error that retrying will not fix: bad credentials, no such database or role, TLS refused.
    static func fatal(_ error: any Error) -> DatabaseURLError? {
        guard let error = error as? PSQLError else { return nil }
        if let state = error.serverInfo?[.sqlState], ["28P01", "28000", "3D000", "42501"].contains(state) {
            return DatabaseURLError("the database refused this service: \(error.serverInfo?[.message] ?? state) (\(state))")
        }
        switch error.code {
        case .sslUnsupported: return DatabaseURLError("the database does not support TLS, but sslmode requires it")
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword:
            return DatabaseURLError("the database asks for an authentication this URL cannot give (\(error.code))")
        default: return nil
        }
    }

    func serve() async {
        state.withLockedValue { state in
            if state.phase == .starting {
                state.phase = .serving
                state.reachable = true
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listener.run(client: self.client, logger: self.logger) }
            group.addTask { await self.claimLoop() }
            group.addTask { await self.heartbeatLoop() }
            group.addTask { await self.sweepLoop() }
            // Until cancelled (the service stopping), after the jobs were handed back.
            await group.next()
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(1)) }
            group.cancelAll()
        }
    }

    func heartbeatLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(settings.heartbeatSeconds))
            let jobs = state.withLockedValue { Array($0.running.values) }
            guard !jobs.isEmpty else { continue }
            do {
                let held = try await withTimeout(.seconds(5)) { try await self.heartbeat(jobs.map(\.claimed.token)) }
                state.withLockedValue { $0.reachable = true }
                for job in jobs {
                    switch held[job.claimed.token] {
                    case nil: job.stop(.leaseLost)
                    case true?:
                        job.renewed()
                        job.stop(.cancelRequested)
                    case false?: job.renewed()
                    }
                }
            } catch {
                metrics.databaseErrors.increment()
                state.withLockedValue { $0.reachable = false }
                logger.warning("heartbeat failed", metadata: ["error": "\(Self.describe(error))"])
                // Past a whole lease without renewal, another replica may have taken the job.
                for job in jobs where ContinuousClock.now - job.renewedAt > .seconds(settings.leaseSeconds) {
                    job.stop(.leaseLost)
                }
            }
        }
    }

    func sweepLoop() async {
        let abandoned = String(
            decoding: JSONWriter.encode(
                Problem(
                    .serviceUnavailable, title: "Job abandoned",
                    detail: "the job was claimed \(settings.maxAttempts) times (--max-attempts) and each replica running it stopped before it finished"
                ).json), as: UTF8.self)
        var lastRetention = ContinuousClock.now - .seconds(60)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(max(1, settings.leaseSeconds / 3)))
            do {
                let swept = try await withTimeout(.seconds(10)) { try await self.sweepExpiredLeases(abandoned: abandoned) }
                if swept.requeued + swept.ended > 0 {
                    metrics.rescues.increment(by: swept.requeued)
                    logger.info("rescued jobs with expired leases", metadata: ["requeued": "\(swept.requeued)", "ended": "\(swept.ended)"])
                }
                if ContinuousClock.now - lastRetention >= .seconds(30) {
                    lastRetention = .now
                    _ = try await withTimeout(.seconds(30)) { try await self.enforceRetention() }
                }
            } catch {
                if Task.isCancelled { return }
                metrics.databaseErrors.increment()
                logger.warning("sweeping the job store failed", metadata: ["error": "\(Self.describe(error))"])
            }
        }
    }

    /// SIGTERM: stop claiming and report not ready; end event streams with a `retry:`
    /// hint (clients reconnect to another replica); give running jobs `grace`; then
    /// checkpoint the rest and hand them back to the queue for another replica.
    func shutdown(grace: Duration) async {
        let first = state.withLockedValue { state -> Bool in
            guard state.phase == .serving || state.phase == .starting else { return false }
            state.phase = .draining
            return true
        }
        guard first else {
            await untilStopped.waitUntilIdle()
            return
        }
        endStreams()
        if await !inProgress.waitUntilIdle(deadline: .now + grace) {
            for job in runningJobs { job.requestHandover() }
            // A checkpoint comes at the end of the current epoch; past 10 s, stop mid-epoch
            // and resume from the last stored checkpoint instead.
            if await !inProgress.waitUntilIdle(deadline: .now + .seconds(10)) {
                for job in runningJobs { job.stop(.handover) }
                await inProgress.waitUntilIdle()
            }
        }
        state.withLockedValue { $0.phase = .stopped }
        untilStopped.leave()
    }

    private var runningJobs: [LeasedJob] { state.withLockedValue { Array($0.running.values) } }
}
