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
        for item in values.flatMap({ $0.split(separator: ",") }) {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, !coding.isEmpty else { continue }
            var quality = 1.0
            var malformed = false
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0] == "q" else { continue }
                if let q = Double(pair[1]), (0...1).contains(q) { quality = q } else { malformed = true }
            }
            if malformed { continue }  // ignored, as `MediaPreference` does
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
