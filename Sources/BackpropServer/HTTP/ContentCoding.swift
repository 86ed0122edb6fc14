import Foundation
import HTTPTypes

/// A request body's content coding (RFC 9110 §8.4): none, gzip, or deflate. Stacked
/// codings (`gzip, br`) and any other coding are refused with a 415 that names what is
/// accepted (`Accept-Encoding: gzip, deflate`, RFC 9110 §15.5.16), before a byte of the
/// body is read. `identity` is the same as no coding.
enum ContentCoding: String, Sendable {
    case identity
    case gzip
    /// RFC 9110's "deflate" is the zlib format (RFC 1950); some clients send raw deflate
    /// (RFC 1951), which is read too (`BodyInflater` tells them apart by the zlib header).
    case deflate

    /// What a 415 lists in its `Accept-Encoding`.
    static let accepted = "gzip, deflate"

    /// The coding of a request with these headers, or a 415.
    init(_ headers: HTTPFields) throws(Problem) {
        let codings = headers[values: .contentEncoding]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            .filter { !$0.isEmpty && $0 != "identity" }
        switch codings {
        case []: self = .identity
        case ["gzip"], ["x-gzip"]: self = .gzip
        case ["deflate"]: self = .deflate
        default: throw Problem.unsupportedCoding(codings.joined(separator: ", "))
        }
    }
}

extension Problem {
    /// 415: a request body in a content coding the server does not read.
    static func unsupportedCoding(_ coding: String) -> Problem {
        Problem(
            .unsupportedMediaType, title: "Unsupported content coding",
            detail: "Content-Encoding \(coding) is not supported; send the body uncompressed, or as gzip or deflate",
            headers: [.acceptEncoding: ContentCoding.accepted])
    }
}
