import BackpropCore
import Foundation
import Hummingbird
import NIOCore

/// POST /forward, /gradient and /train.
///
/// A handler only collects the body; reading it, the computation and writing the
/// answer run on the compute pool, never on an event loop. The one exception is
/// measured small work (`inlineWork`), served on the handler's task, still admitted.
///
/// A class, and the routes' closures made once: a request then copies one reference,
/// not the controller's fields and two closures' contexts.
final class ComputeController: Sendable {
    let pool: ComputePool
    let limits: Limits
    let maximumBodySize: Int
    /// The memory budget and the read and write deadlines.
    let delivery: Delivery
    /// `/forward` and `/gradient` bodies up to `inlineBodySize` bytes whose work is at
    /// most `inlineWork` run on the handler's task (`Configuration.inlineWork`).
    let inlineWork: Int
    let inlineBodySize: Int
    /// Serves POST /train with `Accept: text/event-stream` as a streamed job.
    let jobs: JobController
    /// Where `{"name": …}` networks are fetched from and `save_as` stores to.
    let networks: any NetworkStore
    /// Computes /forward on a stored network without `trace`, batching concurrent requests.
    let inference: NetworkInference

    init(
        pool: ComputePool, limits: Limits, maximumBodySize: Int, delivery: Delivery, inlineWork: Int, inlineBodySize: Int,
        jobs: JobController, networks: any NetworkStore, inference: NetworkInference
    ) {
        self.pool = pool
        self.limits = limits
        self.maximumBodySize = maximumBodySize
        self.delivery = delivery
        self.inlineWork = inlineWork
        self.inlineBodySize = inlineBodySize
        self.jobs = jobs
        self.networks = networks
        self.inference = inference
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        let limits = limits, inlineWork = inlineWork, inference = inference
        let forwardStored: @Sendable (JSONValue, ResolvedNetworks) async throws -> Computed? = { body, stored in
            try await ForwardWire.respond(to: body, limits: limits, networks: stored, inference: inference)
                .map { Computed($0) }
        }
        let forward: @Sendable (JSONValue, ResolvedNetworks, CancellationFlag) throws -> Computed = { body, stored, _ in
            Computed(try ForwardWire.respond(to: body, limits: limits, networks: stored))
        }
        let gradientLane: @Sendable (UnsafeRawBufferPointer) -> ByteBuffer? = {
            GradientLane.respond(to: $0, limits: limits, inlineWork: inlineWork)
        }
        let gradient: @Sendable (JSONValue, ResolvedNetworks, CancellationFlag) throws -> Computed = { body, stored, _ in
            Computed(try GradientWire.respond(to: body, limits: limits, networks: stored))
        }
        router.post("/forward") { request, context in
            try await self.compute(request, context, inline: true, stored: forwardStored, forward)
        }
        router.post("/gradient") { request, context in
            try await self.compute(request, context, inline: true, lane: gradientLane, gradient)
        }
        router.post("/train") { request, context in
            // RFC 9110 negotiation: a stream only when it is strictly preferred to JSON
            // (a generated client's default `application/json, text/event-stream` gets JSON).
            if MediaPreference(accept: request.headers[.accept]).prefersEventStream {
                return try await self.jobs.streamTraining(request, context)
            }
            return try await self.train(request, context)
        }
    }

    /// POST /train, synchronous; also POST /networks/{name}/train, whose body is
    /// rewritten to name the stored network (`rewrite`) and whose result is stored
    /// as `precondition` allows.
    func train(
        _ request: Request, _ context: AppRequestContext, precondition: WritePrecondition = .none,
        rewrite: (@Sendable (JSONValue) throws(Problem) -> JSONValue)? = nil
    ) async throws -> Response {
        try await compute(request, context, stopsWithClient: true, precondition: precondition, rewrite: rewrite) {
            body, stored, cancellation in
            let start = ContinuousClock.now
            let limits = self.limits
            let training = try TrainWire(body, limits: limits, budget: limits.synchronousTrainingBudget, networks: stored)
            if precondition != .none, let latest = stored.single {
                // Once the body is known good, before training: a write that would be
                // refused is not worth the work.
                try precondition.check(latest.name, latest: latest)
            }
            let result = try training.run(cancellation: cancellation)
            if result.stopped == .cancelled { throw CancellationError() }
            let json = training.json(result, durationMilliseconds: (ContinuousClock.now - start).milliseconds)
            return Computed(json, save: training.saveAs.map { ($0, training.wire.content(result.network)) })
        }
    }

    /// Collects the body, then parses, computes and encodes (or prepares to stream) on the pool.
    /// With `inline`, a small body whose work is small is served right here instead
    /// (still admitted by the pool). With `stopsWithClient`, the computation's flag is
    /// raised when the connection closes. A body naming a stored network is first
    /// offered to `stored`, which may answer it itself (its small answer is then
    /// encoded here, on the handler's task). A small compact body is first offered to
    /// `lane` (`GradientLane`), which answers it straight from its bytes or declines.
    func compute(
        _ request: Request, _ context: AppRequestContext, inline: Bool = false,
        lane: (@Sendable (UnsafeRawBufferPointer) -> ByteBuffer?)? = nil, stopsWithClient: Bool = false,
        precondition: WritePrecondition = .none, rewrite: (@Sendable (JSONValue) throws(Problem) -> JSONValue)? = nil,
        stored answerStored: (@Sendable (JSONValue, ResolvedNetworks) async throws -> Computed?)? = nil,
        _ body: @escaping @Sendable (JSONValue, ResolvedNetworks, CancellationFlag) throws -> Computed
    ) async throws -> Response {
        let pretty = try request.prettyFlag()
        let (buffer, reservation) = try await request.collectBody(
            upTo: maximumBodySize, deadlines: delivery.deadlines, context: context, budget: delivery.budget)
        let parsed: JSONValue?
        let stored: ResolvedNetworks
        if rewrite != nil || NetworkReference.mayAppear(in: buffer.readableBytesView) {
            // A stored network is fetched before the computation: read the body first.
            let read: @Sendable (CancellationFlag) throws -> JSONValue = { _ in
                let json = try RequestBody.json(buffer.readableBytesView)
                return try rewrite?(json) ?? json
            }
            let json = try buffer.readableBytes <= inlineBodySize ? read(CancellationFlag()) : await pool.run(read)
            stored = try await ResolvedNetworks.resolve(json, from: networks)
            parsed = json
        } else {
            parsed = nil
            stored = ResolvedNetworks()
        }
        /// A computation's answer, checked and prepared for sending; or its JSON
        /// when a network is to be stored first.
        @Sendable func prepare(_ computed: Computed) throws -> Prepared {
            // The last guard of "no response ever holds NaN or infinity".
            guard !computed.json.containsNonFinite else {
                throw Problem(
                    .unprocessableContent, title: "Result is not finite",
                    detail: "the result holds a number beyond the range of a double")
            }
            if computed.save != nil { return .save(computed) }
            return .answer(try Answer(computed.json, pretty: pretty, reservation: reservation))
        }
        @Sendable func answer(_ json: JSONValue, _ cancellation: CancellationFlag) throws -> Prepared {
            try prepare(try body(json, stored, cancellation))
        }
        /// Stores what is to be stored, then answers.
        func respond(_ prepared: Prepared) async throws -> Response {
            switch prepared {
            case .answer(let answer):
                return delivery.response(answer, reservation: reservation, channel: context.channel)
            case .save(let computed):
                let json = try await computed.saving(to: networks, precondition: precondition)
                let answer = try await pool.run { _ in try Answer(json, pretty: pretty, reservation: reservation) }
                return delivery.response(answer, reservation: reservation, channel: context.channel)
            }
        }
        if let parsed, let answerStored, let computed = try await answerStored(parsed, stored) {
            return try await respond(try prepare(computed))
        }
        if inline, inlineWork > 0, buffer.readableBytes <= inlineBodySize {
            if let lane, parsed == nil, !pretty,
                let answer = try pool.runInline({ buffer.withUnsafeReadableBytes(lane) })
            {
                return delivery.response(.encoded(answer), reservation: reservation, channel: context.channel)
            }
            let json = try parsed ?? RequestBody.json(buffer.readableBytesView)
            if let work = WorkEstimate.samplesTimesParameters(json), work <= inlineWork {
                return try await respond(try pool.runInline { try answer(json, CancellationFlag()) })
            }
            return try await respond(try await pool.run { cancellation in try answer(json, cancellation) })
        }
        let cancellation = CancellationFlag()
        var watch: (ConnectionWatch, token: Int)? = nil
        if stopsWithClient, let handler = try? await context.channel.pipeline.handler(type: DisconnectHandler.self).get() {
            watch = (handler.watch, handler.watch.onDisconnect { cancellation.cancel() })
        }
        defer { if let watch { watch.0.remove(watch.token) } }
        let prepared = try await pool.run(cancellation: cancellation) { cancellation in
            try answer(try parsed ?? RequestBody.json(buffer.readableBytesView), cancellation)
        }
        return try await respond(prepared)
    }
}
