/// The tensor element types the Open Inference Protocol routes take: `FP64`, the
/// network's own, and `FP32`, converted to and from it.
enum InferenceDatatype: String, Sendable {
    case fp64 = "FP64"
    case fp32 = "FP32"

    /// Bytes per element in the binary tensor data extension (little-endian).
    var size: Int {
        switch self {
        case .fp64: 8
        case .fp32: 4
        }
    }

    /// The datatype a tensor names; 400 for any other.
    static func named(_ text: String, at what: String) throws(Problem) -> InferenceDatatype {
        guard let datatype = InferenceDatatype(rawValue: text) else {
            throw Problem(
                .badRequest, title: "Unsupported datatype",
                detail: "\(what) has datatype \"\(text)\"; this server takes FP64 and FP32")
        }
        return datatype
    }

    /// `value` as an element of this type holds it: FP32 rounds to the nearest float.
    @inline(__always)
    func rounded(_ value: Double) -> Double {
        self == .fp32 ? Double(Float(value)) : value
    }
}
