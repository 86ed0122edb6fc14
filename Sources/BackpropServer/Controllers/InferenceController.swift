import BackpropCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The Open Inference Protocol (KServe v2), REST, over stored networks: server
/// metadata and health, model metadata and readiness, and inference, with Triton's
/// binary tensor data extension. Errors are `{"error": ...}` (`InferenceErrorMiddleware`).
struct InferenceController {
    let store: any NetworkStore
    let inference: NetworkInference
    let pool: ComputePool
    let maximumBodySize: Int
    /// Bodies up to this size are read on the handler's task; larger ones on the compute pool.
    let inlineBodySize: Int
    let delivery: Delivery

    static let extensions = ["binary_tensor_data"]

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/v2") { _, _ in
            Response.json(
                .object([
                    ("name", .string("backprop")), ("version", .string(backpropVersion)),
                    ("extensions", .array(Self.extensions.map(JSONValue.string))),
                ]), pretty: false)
        }
        router.get("/v2/health/live") { _, _ in Response.json(.object([("live", .bool(true))]), pretty: false) }
        router.get("/v2/health/ready") { _, _ in Response.json(.object([("ready", .bool(true))]), pretty: false) }
        router.get("/v2/models/:name") { _, context in
            try await metadata(try await model(context, versioned: false))
        }
        router.get("/v2/models/:name/versions/:version") { _, context in
            try await metadata(try await model(context, versioned: true))
        }
        router.get("/v2/models/:name/ready") { _, context in
            ready(try await model(context, versioned: false))
        }
        router.get("/v2/models/:name/versions/:version/ready") { _, context in
            ready(try await model(context, versioned: true))
        }
        router.post("/v2/models/:name/infer") { request, context in
            try await infer(request, context, versioned: false)
        }
        router.post("/v2/models/:name/versions/:version/infer") { request, context in
            try await infer(request, context, versioned: true)
        }
    }

    /// The stored network the path names: 404 if there is none.
    private func model(_ context: AppRequestContext, versioned: Bool) async throws(Problem) -> StoredNetwork {
        let name = try NetworkName.checked(context.parameters.get("name") ?? "")
        var version: Int? = nil
        if versioned { version = try NetworkName.version(context.parameters.get("version")) }
        guard let stored = try await store.get(name, version: version) else {
            throw Problem(
                .notFound, title: "No such model",
                detail: version.map { "model \"\(name)\" has no version \($0)" } ?? "there is no model named \"\(name)\"")
        }
        return stored
    }

    private func metadata(_ stored: StoredNetwork) async throws(Problem) -> Response {
        .json(ModelMetadata.json(stored, versions: try await store.versions(stored.name)), pretty: false)
    }

    private func ready(_ stored: StoredNetwork) -> Response {
        .json(.object([("name", .string(stored.name)), ("ready", .bool(true))]), pretty: false)
    }

    private func infer(_ request: Request, _ context: AppRequestContext, versioned: Bool) async throws -> Response {
        let stored = try await model(context, versioned: versioned)
        var headerLength: Int? = nil
        if let text = request.headers[InferenceResponse.headerLength] {
            guard let length = Int(text.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                throw InferenceRequest.bad("Inference-Header-Content-Length must be a non-negative integer, not \"\(text)\"")
            }
            headerLength = length
        }
        let (buffer, reservation) = try await request.collectBody(
            upTo: maximumBodySize, deadlines: delivery.deadlines, context: context, budget: delivery.budget)
        let read: @Sendable (CancellationFlag) throws -> InferenceRequest = { [headerLength] _ in
            try InferenceRequest(buffer, headerLength: headerLength)
        }
        let parsed = try buffer.readableBytes <= inlineBodySize ? read(CancellationFlag()) : await pool.run(read)
        try parsed.check(inputs: stored.network.inputs)
        let output = try await inference.forward(stored, parsed.input)
        let answer = InferenceResponse(
            modelName: stored.name, modelVersion: stored.version, id: parsed.id, output: output, requested: parsed.output)
        if parsed.output.binary {
            let (body, length) = try await pool.run { _ in try answer.binaryAnswer() }
            reservation.release()
            return Response(
                status: .ok,
                headers: [
                    .contentType: "application/octet-stream", InferenceResponse.headerLength: String(length),
                    .contentLength: String(body.readableBytes),
                ],
                body: ResponseBody(byteBuffer: body))
        }
        let prepared = try await pool.run { _ in
            try Answer(try answer.jsonAnswer(), pretty: false, reservation: reservation)
        }
        return delivery.response(prepared, reservation: reservation, channel: context.channel)
    }
}
