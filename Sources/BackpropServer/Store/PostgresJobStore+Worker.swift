import BackpropCore
import Foundation
import Logging

/// Claiming and running jobs on this replica.
extension PostgresJobStore {
    /// Claims queued jobs while this replica has free slots, woken by the queue's
    /// notification and, as a fallback, every second.
    func claimLoop() async {
        while !Task.isCancelled, phase == .serving {
            let free = state.withLockedValue { $0.running.count < settings.slots }
            if free {
                do {
                    if let claimed = try await withTimeout(.seconds(5), { try await self.claim() }) {
                        state.withLockedValue { $0.reachable = true }
                        metrics.claims.increment()
                        start(claimed)
                        continue
                    }
                    state.withLockedValue { $0.reachable = true }
                } catch {
                    metrics.databaseErrors.increment()
                    state.withLockedValue { $0.reachable = false }
                    logger.warning("claiming a job failed", metadata: ["error": "\(Self.describe(error))"])
                }
            }
            await listener.queue.wait(timeout: .seconds(1))
        }
    }

    private func start(_ claimed: ClaimedJob) {
        let leased = LeasedJob(claimed, store: self)
        state.withLockedValue { $0.running[claimed.id] = leased }
        inProgress.enter()
        logger.info(
            "claimed job", metadata: ["job": "\(claimed.id)", "attempt": "\(claimed.attempt)", "token": "\(claimed.token)"])
        Task {
            await run(leased)
            state.withLockedValue { _ = $0.running.removeValue(forKey: claimed.id) }
            inProgress.leave()
            listener.queue.ring()  // a slot is free
        }
    }

    private enum Outcome {
        case succeeded(String, TrainingResult)
        case failed(Problem)
        case stopped
    }

    private func run(_ leased: LeasedJob) async {
        let claimed = leased.claimed
        let start = ContinuousClock.now
        let interval = Duration.seconds(settings.checkpointSeconds)
        let limits = self.limits
        var outcome: Outcome
        do {
            // The stored network the body names (at the version pinned at submission), fetched first.
            let (parsed, networks) = try await resolveNetworks(claimed)
            let result = try await pool.run(cancellation: leased.flag) {
                flag -> (JSONValue, String?, TrainingResult, TrainWire) in
                let (training, checkpoint) = try Self.prepare(claimed, parsed, networks: networks, limits: limits)
                let result = try training.run(
                    resumingFrom: checkpoint, cancellation: flag, checkpoints: leased.hooks(interval: interval),
                    progress: leased.progress)
                let json = training.json(result, durationMilliseconds: (ContinuousClock.now - start).milliseconds)
                guard training.saveAs == nil else { return (json, nil as String?, result, training) }
                return (json, String(decoding: JSONWriter.encode(json), as: UTF8.self), result, training)
            }
            if result.2.stopped == .cancelled {
                outcome = .stopped
            } else if let text = result.1 {
                outcome = .succeeded(text, result.2)
            } else {
                let json = try await saveNetwork(result.0, result.3, result.2, claimed)
                outcome = .succeeded(String(decoding: JSONWriter.encode(json), as: UTF8.self), result.2)
            }
        } catch let problem as Problem where problem.status == .serviceUnavailable {
            outcome = .stopped  // the network store is out of reach: back to the queue
        } catch let problem as Problem {
            outcome = .failed(problem)
        } catch {
            outcome = .stopped
        }
        await leased.drain()
        let reason = leased.stopReason
        if reason == .leaseLost {
            metrics.lostLeases.increment()
            logger.warning("lost the lease of a job; another replica may run it", metadata: ["job": "\(claimed.id)"])
            return
        }
        if case .stopped = outcome, reason != .cancelRequested {
            // A handover (or the pool stopping): back to the queue, to resume from its checkpoint.
            if await fenced(leased, { try await self.handBack(claimed) }) {
                metrics.handovers.increment()
                logger.info("handed a job back to the queue", metadata: ["job": "\(claimed.id)"])
                return
            }
            outcome = .stopped  // its cancel was requested meanwhile: end it as cancelled
        }
        let written: Bool
        switch outcome {
        case .succeeded(let json, let result):
            written = await fenced(leased) {
                try await self.finish(
                    claimed, state: .succeeded, event: .done, data: json, result: json, error: nil,
                    epoch: result.epochsRun, loss: result.loss, validationLoss: result.validationLoss)
            }
        case .failed(let problem):
            let json = String(decoding: JSONWriter.encode(problem.json), as: UTF8.self)
            written = await fenced(leased) {
                try await self.finish(
                    claimed, state: .failed, event: .failed, data: json, result: nil, error: json, epoch: nil,
                    loss: nil, validationLoss: nil)
            }
        case .stopped:
            let data = "{\"epoch\":\(leased.epoch),\"reason\":\"cancelled\"}"
            written = await fenced(leased) {
                try await self.finish(
                    claimed, state: .cancelled, event: .cancelled, data: data, result: nil, error: nil, epoch: nil,
                    loss: nil, validationLoss: nil)
            }
        }
        if !written { metrics.lostLeases.increment() }
    }

    /// The stored request parsed, and the stored network it names fetched, when it
    /// may name one (nil and none otherwise: `prepare` parses it on the job's thread).
    private func resolveNetworks(_ claimed: ClaimedJob) async throws(Problem) -> (JSONValue?, ResolvedNetworks) {
        guard NetworkReference.mayAppear(in: claimed.request.utf8) else { return (nil, ResolvedNetworks()) }
        let json = try Self.parse(claimed)
        guard let networks else { return (json, ResolvedNetworks()) }
        return (json, try await ResolvedNetworks.resolve(json, from: networks))
    }

    /// Stores the trained network (`save_as`), trying again while the network store
    /// cannot be reached, for up to a lease period (the job's heartbeats go on meanwhile).
    /// A job run again after a crash between this and its finish stores another version.
    private func saveNetwork(
        _ json: JSONValue, _ training: TrainWire, _ result: TrainingResult, _ claimed: ClaimedJob
    ) async throws(Problem) -> JSONValue {
        guard let networks else { throw Problem.internalError }
        let deadline = ContinuousClock.now + .seconds(settings.leaseSeconds)
        while true {
            do {
                return try await MemoryJobStore.saving(json, training, result, to: networks)
            } catch where error.status == .serviceUnavailable && ContinuousClock.now < deadline {
                logger.warning("storing a job's network failed; trying again", metadata: ["job": "\(claimed.id)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    private static func parse(_ claimed: ClaimedJob) throws(Problem) -> JSONValue {
        do {
            return try JSONParser.parse(Array(claimed.request.utf8))
        } catch {
            throw Problem(.unprocessableContent, title: "Invalid stored job", detail: "the stored request is not JSON: \(error.message)")
        }
    }

    /// Reads the stored request (and checkpoint) back into a training.
    private static func prepare(
        _ claimed: ClaimedJob, _ parsed: JSONValue?, networks: ResolvedNetworks, limits: Limits
    ) throws(Problem) -> (TrainWire, TrainingCheckpoint?) {
        let json: JSONValue
        if let parsed { json = parsed } else { json = try parse(claimed) }
        let training = try TrainWire(json, limits: limits, budget: nil, networks: networks)
        guard let bytes = claimed.checkpoint else { return (training, nil) }
        do {
            return (training, try TrainingCheckpoint(decoding: bytes))
        } catch {
            throw Problem(error, at: JSONPointer())
        }
    }

    /// Makes one of this job's writes, again after a database error, until it is
    /// made or the lease must be taken as lost: the heartbeats found it gone, or did not
    /// renew it for a lease period. Returns whether the write was made (false: the
    /// lease is gone).
    ///
    /// While the heartbeats still renew the lease, the write is tried for as long as
    /// it fails: a database that answers but cannot store (a full disk, SQLSTATE 53100)
    /// pauses the job's writes instead of abandoning the job, which would cost it one
    /// of its `--max-attempts` on every lease period of the fault.
    func fenced(_ job: LeasedJob, _ write: @escaping @Sendable () async throws -> Bool) async -> Bool {
        let claimed = job.claimed
        while true {
            do {
                let made = try await withTimeout(.seconds(5), write)
                state.withLockedValue { $0.reachable = true }
                return made
            } catch {
                metrics.databaseErrors.increment()
                state.withLockedValue { $0.reachable = false }
                logger.warning(
                    "a job's write failed; trying again", metadata: ["job": "\(claimed.id)", "error": "\(Self.describe(error))"])
                if job.stopReason == .leaseLost || ContinuousClock.now - job.renewedAt > .seconds(settings.leaseSeconds) {
                    return false
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// One progress event or checkpoint of a running job; a lost lease stops the job.
    func perform(_ write: LeasedJob.Write, for job: LeasedJob) async {
        let claimed = job.claimed
        let made: Bool
        switch write {
        case .progress(let progress):
            var data: [(key: String, value: JSONValue)] = [
                ("epoch", .unsigned(UInt64(progress.epoch))), ("epochs", .unsigned(UInt64(progress.epochs))),
                ("loss", .number(progress.loss)),
            ]
            if let validationLoss = progress.validationLoss { data.append(("validation_loss", .number(validationLoss))) }
            let text = String(decoding: JSONWriter.encode(.object(data)), as: UTF8.self)
            made = await fenced(job) { try await self.writeProgress(claimed, progress, data: text) }
        case .checkpoint(let checkpoint):
            let start = ContinuousClock.now
            let bytes = checkpoint.encoded()
            made = await fenced(job) { try await self.writeCheckpoint(claimed, bytes, epoch: checkpoint.epoch) }
            metrics.checkpointSeconds.recordNanoseconds(Int64((ContinuousClock.now - start).milliseconds * 1e6))
        }
        if !made { job.stop(.leaseLost) }
    }
}
