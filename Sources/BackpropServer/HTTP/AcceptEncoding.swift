import Foundation

/// Negotiation on `Accept-Encoding` (RFC 9110 §12.5.3), for the one coding answers
/// are sent in: gzip. Its quality is that of a `gzip` (or `x-gzip`) item, else that of
/// `*`, else 0; `gzip;q=0` forbids it. Without the header no answer is compressed: a
/// client that sends none (curl without `--compressed`) reads the plain text.
struct AcceptEncoding {
    /// The quality of gzip: 0 when not acceptable.
    let gzipQuality: Double

    /// `values` are the request's `Accept-Encoding` fields.
    init(_ values: [String]) {
        var explicit: Double? = nil
        var any: Double? = nil
        for (coding, quality) in QualityList.items(values) {
            switch coding {
            case "gzip", "x-gzip": explicit = max(explicit ?? 0, quality)
            case "*": any = max(any ?? 0, quality)
            default: break
            }
        }
        gzipQuality = explicit ?? any ?? 0
    }

    /// True when the answer may be sent gzipped.
    var allowsGzip: Bool { gzipQuality > 0 }
}
