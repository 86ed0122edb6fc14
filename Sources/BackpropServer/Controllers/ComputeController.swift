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
    /// Serves POST /train with `Accept: text/event-stream` as a streamed job.
    let jobs: JobController

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/forward") { request, context in
            try await compute(request, context) { body, _ in try ForwardWire.respond(to: body, limits: limits) }
        }
        router.post("/gradient") { request, context in
            try await compute(request, context) { body, _ in try GradientWire.respond(to: body, limits: limits) }
        }
        router.post("/train") { request, context in
            if request.headers[.accept]?.contains("text/event-stream") == true {
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
    /// With `stopsWithClient`, the computation's flag is raised when the connection closes.
    func compute(
        _ request: Request, _ context: AppRequestContext, stopsWithClient: Bool = false,
        _ body: @escaping @Sendable (JSONValue, CancellationFlag) throws -> JSONValue
    ) async throws -> Response {
        let pretty = try request.prettyFlag()
        let (buffer, reservation) = try await request.collectBody(
            upTo: maximumBodySize, deadlines: delivery.deadlines, context: context, budget: delivery.budget)
        let cancellation = CancellationFlag()
        var watch: (ConnectionWatch, token: Int)? = nil
        if stopsWithClient, let handler = try? await context.channel.pipeline.handler(type: DisconnectHandler.self).get() {
            watch = (handler.watch, handler.watch.onDisconnect { cancellation.cancel() })
        }
        defer { if let watch { watch.0.remove(watch.token) } }
        let answer = try await pool.run(cancellation: cancellation) { cancellation in
            let json = try RequestBody.json(buffer.readableBytesView)
            let answer = try body(json, cancellation)
            // The last guard of "no response ever holds NaN or infinity".
            guard !answer.containsNonFinite else {
                throw Problem(
                    .unprocessableContent, title: "Result is not finite",
                    detail: "the result holds a number beyond the range of a double")
            }
            return try Answer(answer, pretty: pretty, reservation: reservation)
        }
        return delivery.response(answer, reservation: reservation, channel: context.channel)
    }
}
