import BackpropCore
import Foundation
import Hummingbird
import NIOCore

/// POST /forward, /gradient and /train.
///
/// A handler only collects the body; reading it, the computation and writing the
/// answer all run on the compute pool, never on an event loop or the handler's task.
struct ComputeController {
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

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/forward") { request, context in
            try await compute(request, context, inline: true) { body, _ in try ForwardWire.respond(to: body, limits: limits) }
        }
        router.post("/gradient") { request, context in
            try await compute(request, context, inline: true) { body, _ in try GradientWire.respond(to: body, limits: limits) }
        }
        router.post("/train") { request, context in
            // RFC 9110 negotiation: a stream only when it is strictly preferred to JSON
            // (a generated client's default `application/json, text/event-stream` gets JSON).
            if MediaPreference(accept: request.headers[.accept]).prefersEventStream {
                return try await jobs.streamTraining(request, context)
            }
            return try await compute(request, context, stopsWithClient: true) { body, cancellation in
                let start = ContinuousClock.now
                let training = try TrainWire(body, limits: limits, budget: limits.synchronousTrainingBudget)
                let result = try training.run(cancellation: cancellation)
                if result.stopped == .cancelled { throw CancellationError() }
                return training.json(result, durationMilliseconds: (ContinuousClock.now - start).milliseconds)
            }
        }
    }

    /// Collects the body, then parses, computes and encodes (or prepares to stream) on the pool.
    /// With `inline`, a small body whose work is small is served right here instead
    /// (still admitted by the pool). With `stopsWithClient`, the computation's flag is
    /// raised when the connection closes.
    func compute(
        _ request: Request, _ context: AppRequestContext, inline: Bool = false, stopsWithClient: Bool = false,
        _ body: @escaping @Sendable (JSONValue, CancellationFlag) throws -> JSONValue
    ) async throws -> Response {
        let pretty = try request.prettyFlag()
        let (buffer, reservation) = try await request.collectBody(
            upTo: maximumBodySize, deadlines: delivery.deadlines, context: context, budget: delivery.budget)
        /// The computation's answer, checked and prepared for sending.
        @Sendable func answer(_ json: JSONValue, _ cancellation: CancellationFlag) throws -> Answer {
            let answer = try body(json, cancellation)
            // The last guard of "no response ever holds NaN or infinity".
            guard !answer.containsNonFinite else {
                throw Problem(
                    .unprocessableContent, title: "Result is not finite",
                    detail: "the result holds a number beyond the range of a double")
            }
            return try Answer(answer, pretty: pretty, reservation: reservation)
        }
        if inline, inlineWork > 0, buffer.readableBytes <= inlineBodySize {
            let json = try RequestBody.json(buffer.readableBytesView)
            if let work = WorkEstimate.samplesTimesParameters(json), work <= inlineWork {
                let prepared = try pool.runInline { try answer(json, CancellationFlag()) }
                return delivery.response(prepared, reservation: reservation, channel: context.channel)
            }
            let prepared = try await pool.run { cancellation in try answer(json, cancellation) }
            return delivery.response(prepared, reservation: reservation, channel: context.channel)
        }
        let cancellation = CancellationFlag()
        var watch: (ConnectionWatch, token: Int)? = nil
        if stopsWithClient, let handler = try? await context.channel.pipeline.handler(type: DisconnectHandler.self).get() {
            watch = (handler.watch, handler.watch.onDisconnect { cancellation.cancel() })
        }
        defer { if let watch { watch.0.remove(watch.token) } }
        let prepared = try await pool.run(cancellation: cancellation) { cancellation in
            try answer(try RequestBody.json(buffer.readableBytesView), cancellation)
        }
        return delivery.response(prepared, reservation: reservation, channel: context.channel)
    }
}
