import BackpropCore
import Hummingbird
import NIOCore

/// Training jobs: POST/GET /train/jobs, GET/DELETE /train/jobs/{id}, the event
/// stream at /train/jobs/{id}/events, and POST /train with `Accept: text/event-stream`.
struct JobController {
    let registry: JobRegistry
    let pool: ComputePool
    let limits: Limits
    let maximumBodySize: Int
    /// The request-read timeout, shared by every route that reads a body.
    let readDeadlines: RequestReadDeadlines
    let grace: Duration

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/train/jobs") { request, context in
            let pretty = try request.prettyFlag()
            let (job, queued) = try await submit(request, context)
            var response = Response.json(queued, status: .accepted, pretty: pretty)
            response.headers[.location] = "/train/jobs/\(job.id)"
            return response
        }
        router.get("/train/jobs") { request, _ in
            let pretty = try request.prettyFlag()
            return Response.json(.object([("jobs", .array(registry.all().map { $0.json(full: false) }))]), pretty: pretty)
        }
        router.get("/train/jobs/:id") { request, context in
            let pretty = try request.prettyFlag()
            return Response.json(try job(context).json(full: true), pretty: pretty)
        }
        router.delete("/train/jobs/:id") { request, context in
            let pretty = try request.prettyFlag()
            let job = try job(context)
            registry.cancel(job)
            return Response.json(job.json(full: true), pretty: pretty)
        }
        router.get("/train/jobs/:id/events") { request, context in
            EventStream.response(for: try job(context), request: request, registry: registry, grace: grace)
        }
    }

    /// POST /train with `Accept: text/event-stream`: a job whose events stream on
    /// this connection; it is cancelled if the client goes away.
    func streamTraining(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let (job, _) = try await submit(request, context)
        if let handler = try? await context.channel.pipeline.handler(type: DisconnectHandler.self).get() {
            _ = handler.watch.onDisconnect { [registry] in registry.cancel(job) }
        }
        return EventStream.response(
            for: job, request: request, registry: registry, grace: grace,
            extraHeaders: [.location: "/train/jobs/\(job.id)"])
    }

    /// Reads and checks the body on the pool, then registers the job.
    private func submit(_ request: Request, _ context: AppRequestContext) async throws -> (job: Job, queued: JSONValue) {
        let buffer = try await request.collectBody(upTo: maximumBodySize, deadlines: readDeadlines, context: context)
        let training = try await pool.run { _ in
            let json: JSONValue
            do {
                json = try JSONParser.parse(buffer.readableBytesView)
            } catch let error as JSONSyntaxError {
                throw Problem.malformed(error)
            }
            return try TrainWire(json, limits: limits, budget: nil)
        }
        return try registry.submit(training)
    }

    private func job(_ context: AppRequestContext) throws(Problem) -> Job {
        let id = context.parameters.get("id") ?? ""
        guard let job = registry.job(id) else {
            throw Problem(.notFound, title: "No such job", detail: "there is no job \(id); finished jobs are kept for a limited time")
        }
        return job
    }
}
