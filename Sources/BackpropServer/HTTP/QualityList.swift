import Foundation

/// The items of an RFC 9110 list with quality values (`Accept`, `Accept-Encoding`,
/// §12.4.2): each item's value, lowercased, and its `q` (1 when absent). An item whose
/// `q` is not a number from 0 to 1 is malformed and left out; empty items are skipped.
enum QualityList {
    static func items(_ fields: [String]) -> [(value: String, quality: Double)] {
        fields.flatMap { $0.split(separator: ",") }.compactMap { item in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let value = parts.first?.lowercased(), !value.isEmpty else { return nil }
            var quality = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard pair.count == 2, pair[0].lowercased() == "q" else { continue }
                guard let q = Double(pair[1]), (0...1).contains(q) else { return nil }
                quality = q
            }
            return (value, quality)
        }
    }
}
