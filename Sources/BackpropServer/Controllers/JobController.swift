import BackpropCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Training jobs: POST/GET /train/jobs, GET/DELETE /train/jobs/{id}, the event
/// stream at /train/jobs/{id}/events, and POST /train with `Accept: text/event-stream`.
/// The same over every `JobStore`.
struct JobController {
    let store: any JobStore
    let pool: ComputePool
    let limits: Limits
    let maximumBodySize: Int
    /// The memory budget and the read and write deadlines.
    let delivery: Delivery
    let grace: Duration
    /// Where a job's `{"name": …}` network is fetched from (at submission, pinned to
    /// its version in the stored body) and where `save_as` stores the trained one.
    let networks: any NetworkStore

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!

    func addRoutes(to router: Router<AppRequestContext>) {
        router.post("/train/jobs") { request, context in
            let pretty = try request.prettyFlag()
            let queued = try await submit(request, context)
            var response = Response.json(queued.json(full: false), status: .accepted, pretty: pretty)
            response.headers[.location] = "/train/jobs/\(queued.id)"
            return response
        }
        router.get("/train/jobs") { request, _ in
            let pretty = try request.prettyFlag()
            let jobs = try await store.list()
            return Response.json(.object([("jobs", .array(jobs.map { $0.json(full: false) }))]), pretty: pretty)
        }
        router.get("/train/jobs/:id") { request, context in
            let pretty = try request.prettyFlag()
            let id = context.parameters.get("id") ?? ""
            guard let job = try await store.job(id) else { throw Problem.noSuchJob(id) }
            if job.resultDropped { throw Problem.resultDropped(job) }
            return try delivery.response(job.json(full: true), pretty: pretty, channel: context.channel)
        }
        router.delete("/train/jobs/:id") { request, context in
            let pretty = try request.prettyFlag()
            let id = context.parameters.get("id") ?? ""
            guard let job = try await store.cancel(id) else { throw Problem.noSuchJob(id) }
            return try delivery.response(job.json(full: true), pretty: pretty, channel: context.channel)
        }
        router.get("/train/jobs/:id/events") { request, context in
            let id = context.parameters.get("id") ?? ""
            let lastID = try EventStream.lastEventID(request)
            guard try await store.job(id) != nil else { throw Problem.noSuchJob(id) }
            return EventStream.response(for: id, after: lastID, store: store, grace: grace, delivery: delivery, channel: context.channel)
        }
    }

    /// POST /train with `Accept: text/event-stream`: a job whose events stream on
    /// this connection; it is cancelled if the client goes away (but not when this
    /// replica closes the stream to shut down: a shared store hands the job on).
    func streamTraining(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let lastID = try EventStream.lastEventID(request)
        let job = try await submit(request, context)
        if let handler = try? await context.channel.pipeline.handler(type: DisconnectHandler.self).get() {
            _ = handler.watch.onDisconnect { [store] in
                guard !store.isShuttingDown else { return }
                Task { _ = try? await store.cancel(job.id) }
            }
        }
        return EventStream.response(
            for: job.id, after: lastID, store: store, grace: grace, delivery: delivery, channel: context.channel,
            extraHeaders: [.location: "/train/jobs/\(job.id)"])
    }

    /// Reads and checks the body on the pool, then stores the job.
    private func submit(_ request: Request, _ context: AppRequestContext) async throws -> JobSnapshot {
        let key = try Self.idempotencyKey(request)
        let (buffer, reservation) = try await request.collectBody(
            upTo: maximumBodySize, deadlines: delivery.deadlines, context: context, budget: delivery.budget)
        // A stored network is fetched before the body is checked: read it first.
        var parsed: JSONValue? = nil
        var resolved = ResolvedNetworks()
        if NetworkReference.mayAppear(in: buffer.readableBytesView) {
            let json = try await pool.run { _ in try RequestBody.json(buffer.readableBytesView) }
            resolved = try await ResolvedNetworks.resolve(json, from: networks)
            parsed = json
        }
        let submission = try await pool.run { [parsed, resolved] _ in
            let json = try parsed ?? RequestBody.json(buffer.readableBytesView)
            let training = try TrainWire(json, limits: limits, budget: nil, networks: resolved)
            // The job holds its network and data until it ends: the body's room becomes theirs.
            guard reservation.resizeIfFits(to: training.memoryFootprint, as: .jobs) else {
                throw Problem.memoryBudgetExhausted
            }
            return JobSubmission(
                training: training,
                canonicalBody: Self.canonicalBody(json, seed: training.configuration.seed, stored: training.wire.stored),
                idempotency: key.map { ($0, Array(SHA256.hash(data: buffer.readableBytesView))) },
                reservation: reservation)
        }
        return try await store.submit(submission)
    }

    /// The body with its seed filled in, so that running it again (after a crash,
    /// on another replica) draws the same network and the same shuffles; and with a
    /// stored network's version pinned (`{"name", "version"}`), so that it trains the
    /// version resolved at submission, not a later one.
    static func canonicalBody(_ json: JSONValue, seed: UInt64, stored: StoredNetwork? = nil) -> [UInt8] {
        guard case .object(var fields) = json else { return JSONWriter.encode(json) }
        if let stored, let index = fields.firstIndex(where: { $0.key == "network" }) {
            fields[index].value = stored.referenceJSON
        }
        if json["seed"] == nil || json["seed"] == JSONValue.null {
            fields.removeAll { $0.key == "seed" }  // a null seed is an absent one
            fields.append(("seed", .unsigned(seed)))
        }
        return JSONWriter.encode(.object(fields))
    }

    /// The `Idempotency-Key` header (IETF httpapi draft): 1 to 255 visible ASCII characters.
    static func idempotencyKey(_ request: Request) throws(Problem) -> String? {
        let values = request.headers[values: idempotencyKey]
        guard let value = values.first else { return nil }
        let key = value.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard values.count == 1, (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw Problem(
                .badRequest, title: "Invalid Idempotency-Key",
                detail: "Idempotency-Key must be one value of 1 to 255 visible ASCII characters")
        }
        return key
    }
}
