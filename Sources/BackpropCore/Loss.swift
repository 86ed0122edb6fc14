import Foundation

/// A loss function: its value per sample and the output layer's error term.
///
/// The error term follows the seed's sign: δ = −∂E/∂h, which for squared error
/// with an elementwise activation is (y − ŷ)·f′(h).
public enum Loss: String, Sendable, CaseIterable {
    /// E = ½ Σ_k (y_k − ŷ_k)².
    case squaredError = "squared_error"
    /// Binary cross-entropy summed over units for a sigmoid output,
    /// E = −Σ_k [y_k ln ŷ_k + (1 − y_k) ln(1 − ŷ_k)];
    /// categorical for a softmax output, E = −Σ_k y_k ln ŷ_k.
    case crossEntropy = "cross_entropy"

    /// Throws unless this loss can be used with `activation` on the output layer.
    public func check(outputActivation activation: Activation) throws(CoreError) {
        guard self == .crossEntropy else { return }
        guard activation == .sigmoid || activation == .softmax else {
            throw CoreError(
                .invalidLoss,
                "cross_entropy needs a sigmoid or softmax output layer, not \(activation.rawValue)",
                at: .loss)
        }
    }

    /// Throws, naming the row, unless every target row is valid for this loss:
    /// finite always; for cross-entropy in [0, 1] (sigmoid) or a probability
    /// vector summing to 1 within 1e-9 (softmax).
    public func check(targets: Matrix, outputActivation activation: Activation) throws(CoreError) {
        try targets.storage.withUnsafeBufferPointer { values throws(CoreError) in
            try check(targets: values, rows: targets.rows, outputActivation: activation)
        }
    }

    /// `check(targets:outputActivation:)` on `rows` rows held row-major in `targets`.
    package func check(
        targets: UnsafeBufferPointer<Double>, rows: Int, outputActivation activation: Activation
    ) throws(CoreError) {
        let columns = rows > 0 ? targets.count / rows : 0
        for r in 0..<rows {
            let row = UnsafeBufferPointer(rebasing: targets[r * columns..<(r + 1) * columns])
            guard row.allFinite else {
                throw CoreError(.invalidTarget, "row \(r) is not finite", at: .data(.training, .targets, row: r))
            }
            guard self == .crossEntropy else { continue }
            guard row.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                throw CoreError(
                    .invalidTarget, "row \(r): cross_entropy targets must lie in [0, 1]",
                    at: .data(.training, .targets, row: r))
            }
            if activation == .softmax {
                let sum = row.reduce(0, +)
                guard abs(sum - 1) <= 1e-9 else {
                    throw CoreError(
                        .invalidTarget,
                        "row \(r): softmax cross_entropy targets must sum to 1, not \(sum)",
                        at: .data(.training, .targets, row: r))
                }
            }
        }
    }

    /// The loss of one sample of `count` units, from the weighted inputs `h`,
    /// outputs `y` (= f(h)) and targets `t`.
    ///
    /// Cross-entropy is computed from h, never from ŷ: ln σ(h) = −softplus(−h),
    /// ln(1 − σ(h)) = −softplus(h), ln softmax(h)_k = h_k − logsumexp(h), so it
    /// stays finite where ŷ rounds to 0 or 1.
    @inline(__always)
    func value(
        h: UnsafePointer<Double>, y: UnsafePointer<Double>, t: UnsafePointer<Double>,
        count: Int, activation: Activation
    ) -> Double {
        var total = 0.0
        switch (self, activation) {
        case (.squaredError, _):
            for k in 0..<count {
                let e = t[k] - y[k]
                total += e * e
            }
            return 0.5 * total
        case (.crossEntropy, .softmax):
            var maximum = -Double.infinity
            for k in 0..<count { maximum = max(maximum, h[k]) }
            var sum = 0.0
            for k in 0..<count { sum += exp(h[k] - maximum) }
            let logSumExp = maximum + log(sum)
            // t·(h − lse) as 2·t·(h/2 − lse/2): the same double where h − lse fits, and
            // still finite where only t·(h − lse) does (h = ±1e308).
            for k in 0..<count where t[k] != 0 { total -= 2 * (t[k] * (h[k] / 2 - logSumExp / 2)) }
            return total
        case (.crossEntropy, _):
            for k in 0..<count {
                if t[k] != 0 { total += t[k] * Activation.softplus(-h[k]) }
                if t[k] != 1 { total += (1 - t[k]) * Activation.softplus(h[k]) }
            }
            return total
        }
    }

    /// Writes the output layer's error term δ = −∂E/∂h for one sample.
    ///
    /// - squared error, elementwise f: δ_k = (y_k − ŷ_k) f′(h_k);
    /// - squared error, softmax (full Jacobian): with e = y − ŷ,
    ///   δ_j = ŷ_j (e_j − Σ_k e_k ŷ_k);
    /// - cross-entropy (sigmoid or softmax): δ_k = y_k − ŷ_k exactly.
    @inline(__always)
    func errorTerm(
        h: UnsafePointer<Double>, y: UnsafePointer<Double>, t: UnsafePointer<Double>,
        into delta: UnsafeMutablePointer<Double>, count: Int, activation: Activation
    ) {
        switch (self, activation) {
        case (.crossEntropy, _):
            for k in 0..<count { delta[k] = t[k] - y[k] }
        case (.squaredError, .softmax):
            var projection = 0.0
            for k in 0..<count { projection += (t[k] - y[k]) * y[k] }
            for j in 0..<count { delta[j] = y[j] * ((t[j] - y[j]) - projection) }
        case (.squaredError, _):
            for k in 0..<count { delta[k] = (t[k] - y[k]) * activation.derivative(h[k], output: y[k]) }
        }
    }
}
