import CBackpropKernels
import Foundation

/// A layer's activation function f, applied to the weighted input h = x·W + b.
///
/// Each case's function and derivative sit side by side below, the formula in the
/// doc comment. Every function is finite for |h| up to 1e308 (the largest doubles).
public enum Activation: String, Sendable, CaseIterable {
    case sigmoid
    case tanh
    case relu
    case leakyRelu = "leaky_relu"
    case elu
    case softplus
    case linear
    case softmax

    /// The slope of leaky_relu for negative inputs.
    public static let leakySlope = 0.01

    /// True for activations applied to each unit on its own (all but softmax).
    public var isElementwise: Bool { self != .softmax }

    /// f(h) for one unit. Softmax is not elementwise: use `apply(_:rows:units:)`.
    @inline(__always)
    public func value(_ h: Double) -> Double {
        switch self {
        /// σ(h) = 1 / (1 + e^−h), computed from e^−|h| so it never overflows.
        case .sigmoid: Activation.sigmoid(h)
        /// tanh(h) = (e^h − e^−h) / (e^h + e^−h), computed as sign(h)·e/(e + 2) with
        /// e = e^2|h| − 1, the same bits alone or in arrays (`bp_tanh`, activations.c).
        case .tanh: bp_tanh_one(h)
        /// relu(h) = max(0, h).
        case .relu: h > 0 ? h : 0
        /// leaky_relu(h) = h for h > 0, 0.01·h otherwise.
        case .leakyRelu: h > 0 ? h : Activation.leakySlope * h
        /// elu(h) = h for h > 0, e^h − 1 otherwise.
        case .elu: h > 0 ? h : expm1(h)
        /// softplus(h) = ln(1 + e^h) = max(h, 0) + ln(1 + e^−|h|).
        case .softplus: Activation.softplus(h)
        /// linear(h) = h.
        case .linear, .softmax: h
        }
    }

    /// f′(h) for one unit, given h and y = f(h).
    @inline(__always)
    public func derivative(_ h: Double, output y: Double) -> Double {
        switch self {
        /// σ′(h) = σ(h)(1 − σ(h)) = y(1 − y), as the seed's `sigmoid_prime`.
        case .sigmoid: y * (1 - y)
        /// tanh′(h) = 1 − y².
        case .tanh: 1 - y * y
        /// relu′(h) = 1 for h > 0, else 0 (0 at the kink, as TensorFlow and PyTorch).
        case .relu: h > 0 ? 1 : 0
        /// leaky_relu′(h) = 1 for h > 0, else 0.01 (0.01 at the kink).
        case .leakyRelu: h > 0 ? 1 : Activation.leakySlope
        /// elu′(h) = 1 for h ≥ 0, else e^h (1 at the kink).
        case .elu: h >= 0 ? 1 : exp(h)
        /// softplus′(h) = σ(h) (½ at the kink).
        case .softplus: Activation.sigmoid(h)
        /// linear′(h) = 1. (Softmax's Jacobian is handled by the loss; see `Loss`.)
        case .linear, .softmax: 1
        }
    }

    /// Applies f in place to `rows` samples of `units` weighted inputs each, row-major.
    ///
    /// Elementwise activations go over the whole block at once (tanh in vectors,
    /// `bp_tanh`, with the same bits as `value`); softmax goes row by row:
    /// softmax(h)_k = e^(h_k − max h) / Σ_j e^(h_j − max h): shifting by the maximum
    /// keeps every exponent ≤ 0, so nothing overflows.
    @inline(__always)
    func apply(_ values: UnsafeMutablePointer<Double>, rows: Int, units: Int) {
        switch self {
        case .tanh: bp_tanh(values, rows * units)
        case .softmax: for r in 0..<rows { Self.softmax(values + r * units, count: units) }
        default: for k in 0..<rows * units { values[k] = value(values[k]) }
        }
    }

    @inline(__always)
    private static func softmax(_ values: UnsafeMutablePointer<Double>, count: Int) {
        var maximum = -Double.infinity
        for k in 0..<count { maximum = max(maximum, values[k]) }
        var sum = 0.0
        for k in 0..<count {
            let e = exp(values[k] - maximum)
            values[k] = e
            sum += e
        }
        for k in 0..<count { values[k] /= sum }
    }

    /// σ(h), stable for any h: 1/(1 + e^−h) for h ≥ 0, e^h/(1 + e^h) otherwise.
    @inline(__always)
    public static func sigmoid(_ h: Double) -> Double {
        if h >= 0 { return 1 / (1 + exp(-h)) }
        let e = exp(h)
        return e / (1 + e)
    }

    /// ln(1 + e^h), stable for any h.
    @inline(__always)
    public static func softplus(_ h: Double) -> Double {
        max(h, 0) + log1p(exp(-abs(h)))
    }
}
