import BackpropCore
import HTTPTypes
import NIOCore

/// The answer to an infer request: `model_name`, `model_version` (a string),
/// `id` when the request had one, and the output tensor, as flat `data` or as raw
/// bytes after the JSON (binary tensor data extension).
struct InferenceResponse: Sendable {
    let modelName: String
    let modelVersion: Int
    let id: String?
    let output: Matrix
    let requested: InferenceRequest.RequestedOutput

    static let headerLength = HTTPField.Name("Inference-Header-Content-Length")!

    /// The output as the requested type holds it; 400 if FP32 cannot hold a value.
    private func values() throws(Problem) -> [Double] {
        guard requested.datatype == .fp32 else { return output.storage }
        let values = output.storage.map { Double(Float($0)) }
        if values.contains(where: { !$0.isFinite }) {
            throw InferenceRequest.bad("the output holds a value beyond the range of FP32; ask for FP64")
        }
        return values
    }

    /// The JSON document; with `binarySize`, the output's `binary_data_size` instead of its data.
    private func json(data: [Double]?, binarySize: Int?) -> JSONValue {
        var tensor: [(key: String, value: JSONValue)] = [
            ("name", .string(InferenceRequest.outputName)),
            ("datatype", .string(requested.datatype.rawValue)),
            ("shape", .numbers([Double(output.rows), Double(output.columns)])),
        ]
        if let binarySize {
            tensor.append(("parameters", .object([("binary_data_size", .unsigned(UInt64(binarySize)))])))
        }
        if let data { tensor.append(("data", .numbers(data))) }
        var fields: [(key: String, value: JSONValue)] = [
            ("model_name", .string(modelName)), ("model_version", .string(String(modelVersion))),
        ]
        if let id { fields.append(("id", .string(id))) }
        fields.append(("outputs", .array([.object(tensor)])))
        return .object(fields)
    }

    /// The answer in JSON, data included (sent as any JSON answer, streamed if large).
    func jsonAnswer() throws(Problem) -> JSONValue {
        json(data: try values(), binarySize: nil)
    }

    /// The answer with the binary tensor data extension: the JSON, then the raw output;
    /// and the JSON's length, for `Inference-Header-Content-Length`.
    func binaryAnswer() throws(Problem) -> (body: ByteBuffer, headerLength: Int) {
        let values = try values()
        let size = values.count * requested.datatype.size
        var buffer = ByteBuffer.json(json(data: nil, binarySize: size), pretty: false)
        let headerLength = buffer.readableBytes
        buffer.reserveCapacity(minimumWritableBytes: size)
        BinaryTensor.write(values, as: requested.datatype, to: &buffer)
        return (buffer, headerLength)
    }
}
