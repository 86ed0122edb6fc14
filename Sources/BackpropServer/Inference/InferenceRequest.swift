import BackpropCore
import Foundation
import NIOCore

/// A `POST /v2/models/{name}/infer` body (Open Inference Protocol, REST): its JSON,
/// and with Triton's binary tensor data extension the raw tensors after it.
///
/// One input, `input` (`[batch, inputs]`, FP64 or FP32, as flat row-major `data` or
/// `binary_data_size` raw little-endian bytes), and one output, `output`.
struct InferenceRequest: Sendable {
    /// Echoed in the answer when given.
    var id: String?
    /// The samples, one row each.
    var input: Matrix
    /// How the output is to be sent.
    var output: RequestedOutput

    static let inputName = "input"
    static let outputName = "output"

    struct RequestedOutput: Sendable, Equatable {
        /// Raw bytes after the JSON (binary tensor data extension), not `data`.
        var binary: Bool
        var datatype: InferenceDatatype
    }

    /// Reads `body`, whose first `headerLength` bytes are the JSON (nil: all of it).
    init(_ body: ByteBuffer, headerLength: Int?) throws(Problem) {
        let bytes = body.readableBytesView
        let jsonLength = headerLength ?? bytes.count
        guard jsonLength >= 0, jsonLength <= bytes.count else {
            throw Self.bad("Inference-Header-Content-Length is \(jsonLength), but the body has only \(bytes.count) bytes")
        }
        let json = try RequestBody.json(bytes.prefix(jsonLength))
        guard case .object = json else { throw Self.bad("the request must be a JSON object") }
        if let id = json["id"] {
            guard case .string(let text) = id else { throw Self.bad("id must be a string") }
            self.id = text
        }
        let parameters = try Self.object(json["parameters"], "parameters")
        let binaryOutput = try Self.flag(parameters?["binary_data_output"], "parameters.binary_data_output") ?? false
        guard let inputs = json["inputs"]?.arrayValue else { throw Self.bad("inputs must be an array of one tensor") }
        guard inputs.count == 1 else {
            throw Self.bad("inputs has \(inputs.count) tensors; the model takes one, \"\(Self.inputName)\"")
        }
        var tail = jsonLength
        input = try Self.tensor(inputs[0], body: body, tail: &tail)
        guard tail == bytes.count else {
            throw Self.bad("\(bytes.count - tail) bytes of binary data after the JSON belong to no input")
        }
        output = RequestedOutput(binary: binaryOutput, datatype: .fp64)
        if let outputs = json["outputs"] {
            guard let list = outputs.arrayValue, list.count <= 1 else {
                throw Self.bad("outputs must be an array naming at most the one output, \"\(Self.outputName)\"")
            }
            if let requested = list.first { output = try Self.requested(requested, binaryDefault: binaryOutput) }
        }
    }

    /// 400 unless the samples fit the network's input.
    func check(inputs: Int) throws(Problem) {
        guard input.columns == inputs else {
            throw Self.bad(
                "input has shape [\(input.rows), \(input.columns)]; the model takes [-1, \(inputs)]")
        }
    }

    /// The one input tensor, its binary data (if any) read from `body` at `tail`.
    private static func tensor(_ value: JSONValue, body: ByteBuffer, tail: inout Int) throws(Problem) -> Matrix {
        guard case .object = value else { throw bad("inputs[0] must be an object") }
        guard case .string(let name)? = value["name"] else { throw bad("inputs[0].name must be a string") }
        guard name == inputName else {
            throw bad("the model has no input \"\(name)\"; its input is \"\(inputName)\"")
        }
        guard case .string(let type)? = value["datatype"] else { throw bad("inputs[0].datatype must be a string") }
        let datatype = try InferenceDatatype.named(type, at: "input \"\(name)\"")
        guard let shape = value["shape"].flatMap(integers), shape.count == 2, shape[0] >= 1, shape[1] >= 1 else {
            throw bad("inputs[0].shape must be [batch, inputs], two positive integers")
        }
        let (rows, columns) = (shape[0], shape[1])
        guard rows.multipliedReportingOverflow(by: columns * datatype.size).overflow == false else {
            throw bad("inputs[0].shape \(shape) is too large")
        }
        let count = rows * columns
        let parameters = try object(value["parameters"], "inputs[0].parameters")
        var storage: [Double]
        if let size = parameters?["binary_data_size"] {
            guard value["data"] == nil else { throw bad("inputs[0] has both data and binary_data_size") }
            guard let size = size.doubleValue, size == size.rounded(), size >= 0 else {
                throw bad("inputs[0].parameters.binary_data_size must be a non-negative integer")
            }
            guard Int(exactly: size) == count * datatype.size else {
                throw bad("inputs[0] has binary_data_size \(Int(size)), but shape \(shape) of \(type) takes \(count * datatype.size) bytes")
            }
            guard body.readableBytes - tail >= count * datatype.size else {
                throw bad("inputs[0] has binary_data_size \(Int(size)), but only \(body.readableBytes - tail) bytes follow the JSON")
            }
            storage = BinaryTensor.read(body, at: tail, count: count, datatype: datatype)
            tail += count * datatype.size
        } else {
            guard let data = value["data"] else { throw bad("inputs[0] has neither data nor parameters.binary_data_size") }
            storage = []
            storage.reserveCapacity(count)
            guard flatten(data, into: &storage) else { throw bad("inputs[0].data must be an array of numbers") }
            guard storage.count == count else {
                throw bad("inputs[0].data has \(storage.count) numbers, but shape \(shape) takes \(count)")
            }
            if datatype == .fp32 { for i in storage.indices { storage[i] = datatype.rounded(storage[i]) } }
        }
        if let index = storage.firstIndex(where: { !$0.isFinite }) {
            throw bad("inputs[0] element \(index) is not a finite number")
        }
        do {
            return try Matrix(rows: rows, columns: columns, storage: storage)
        } catch {
            throw Problem(error)
        }
    }

    /// An element of `outputs`: the one output, binary or not, FP64 or FP32.
    private static func requested(_ value: JSONValue, binaryDefault: Bool) throws(Problem) -> RequestedOutput {
        guard case .object = value else { throw bad("outputs[0] must be an object") }
        guard case .string(let name)? = value["name"] else { throw bad("outputs[0].name must be a string") }
        guard name == outputName else {
            throw bad("the model has no output \"\(name)\"; its output is \"\(outputName)\"")
        }
        let parameters = try object(value["parameters"], "outputs[0].parameters")
        let binary = try flag(parameters?["binary_data"], "outputs[0].parameters.binary_data") ?? binaryDefault
        var datatype = InferenceDatatype.fp64
        if let type = parameters?["datatype"] {
            guard case .string(let text) = type else { throw bad("outputs[0].parameters.datatype must be a string") }
            datatype = try InferenceDatatype.named(text, at: "output \"\(name)\"")
        }
        return RequestedOutput(binary: binary, datatype: datatype)
    }

    /// Appends every number of a flat or nested array; false if anything else is in it.
    private static func flatten(_ value: JSONValue, into storage: inout [Double]) -> Bool {
        switch value {
        case .numbers(let numbers): storage.append(contentsOf: numbers)
        case .matrix(_, let numbers): storage.append(contentsOf: numbers)
        case .array(let elements):
            for element in elements {
                if let number = element.doubleValue { storage.append(number); continue }
                guard flatten(element, into: &storage) else { return false }
            }
        default: return false
        }
        return true
    }

    private static func integers(_ value: JSONValue) -> [Int]? {
        guard let elements = value.arrayValue else { return nil }
        var result: [Int] = []
        for element in elements {
            guard let number = element.doubleValue, number == number.rounded(), let integer = Int(exactly: number),
                integer <= Int(Int32.max)
            else { return nil }
            result.append(integer)
        }
        return result
    }

    private static func object(_ value: JSONValue?, _ what: String) throws(Problem) -> JSONValue? {
        guard let value else { return nil }
        if case .null = value { return nil }
        guard case .object = value else { throw bad("\(what) must be an object") }
        return value
    }

    private static func flag(_ value: JSONValue?, _ what: String) throws(Problem) -> Bool? {
        guard let value else { return nil }
        guard case .bool(let flag) = value else { throw bad("\(what) must be a boolean") }
        return flag
    }

    static func bad(_ detail: String) -> Problem {
        Problem(.badRequest, title: "Invalid inference request", detail: detail)
    }
}
