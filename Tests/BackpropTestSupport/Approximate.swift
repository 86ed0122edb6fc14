import BackpropCore

/// The largest relative difference between two arrays, with `floor` guarding the
/// denominator near zero: |a − b| / max(|a|, |b|, floor).
public func maxRelativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-8) -> Double {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    var worst = 0.0
    for (x, y) in zip(a, b) {
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), floor))
    }
    return worst
}

/// The largest absolute difference between two arrays (infinity if their lengths differ).
public func maxAbsoluteError(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// True when `a` and `b` have the same shape and agree within `tolerance` absolutely.
public func isClose(_ a: Matrix, _ b: Matrix, tolerance: Double) -> Bool {
    a.rows == b.rows && a.columns == b.columns && maxAbsoluteError(a.storage, b.storage) <= tolerance
}
