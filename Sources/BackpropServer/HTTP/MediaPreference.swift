/// Content negotiation on `Accept` (RFC 9110 §12.5.1): media ranges with q-values,
/// the most specific range that matches a type giving its quality.
struct MediaPreference {
    private struct Range {
        let type: Substring
        let subtype: Substring
        let quality: Double
    }

    private let ranges: [Range]

    /// `header` is the `Accept` value; absent, every type is acceptable alike.
    init(accept header: String?) {
        ranges = QualityList.items([header ?? "*/*"]).compactMap { media, quality in
            guard let slash = media.firstIndex(of: "/") else { return nil }
            return Range(type: media[..<slash], subtype: media[media.index(after: slash)...], quality: quality)
        }
    }

    /// The quality of `type/subtype`: that of the most specific matching range, 0 if none.
    func quality(of type: String, _ subtype: String) -> Double {
        var best: (specificity: Int, quality: Double) = (-1, 0)
        for range in ranges {
            let specificity: Int
            switch (range.type, range.subtype) {
            case (Substring(type), Substring(subtype)): specificity = 2
            case (Substring(type), "*"): specificity = 1
            case ("*", "*"): specificity = 0
            default: continue
            }
            // Among equally specific ranges, the first one listed counts.
            if specificity > best.specificity { best = (specificity, range.quality) }
        }
        return best.quality
    }

    /// True when `text/event-stream` is strictly preferred to `application/json` (or is
    /// the only one of the two acceptable): then `POST /train` streams.
    var prefersEventStream: Bool {
        quality(of: "text", "event-stream") > quality(of: "application", "json")
    }
}
