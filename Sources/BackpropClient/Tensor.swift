/// A value of the API's scalar-or-array shorthand, as the service answers it: a number
/// (one sample of a one-unit layer, or a one-unit layer's bias), a vector (one sample, or
/// a batch of a one-unit layer, or a one-unit layer's weights) or a matrix (a batch, or
/// a layer's weights). The generated types hold these as three optionals (`value1`,
/// `value2`, `value3`); `tensor` on each reads them as one of the three.
public enum Tensor: Hashable, Sendable {
    case scalar(Double)
    case vector([Double])
    case matrix([[Double]])

    /// The number, if this is one.
    public var scalar: Double? {
        if case let .scalar(value) = self { value } else { nil }
    }

    /// The vector, if this is one.
    public var vector: [Double]? {
        if case let .vector(value) = self { value } else { nil }
    }

    /// The matrix, if this is one.
    public var matrix: [[Double]]? {
        if case let .matrix(value) = self { value } else { nil }
    }

    /// The decoded alternatives of an `anyOf` of number, vector and matrix, in that
    /// order of preference (`[]` decodes as both a vector and a matrix: a vector).
    init(anyOf scalar: Double?, _ vector: [Double]?, _ matrix: [[Double]]?) {
        if let scalar {
            self = .scalar(scalar)
        } else if let vector {
            self = .vector(vector)
        } else {
            // The generated decoder has checked that one of the three decoded.
            self = .matrix(matrix ?? [])
        }
    }
}

extension Components.Schemas.PerSample {
    /// The value, per sample: a number or a vector for one sample, a vector or a matrix
    /// for a batch.
    public var tensor: Tensor { Tensor(anyOf: value1, value2, value3) }
}

extension Components.Schemas.NetworkOut.LayersPayloadPayload.WeightsPayload {
    /// The weights: a matrix, or a vector for a one-unit layer in the vector shorthand.
    public var tensor: Tensor { Tensor(anyOf: nil, value1, value2) }
}

extension Components.Schemas.NetworkOut.LayersPayloadPayload.BiasesPayload {
    /// The biases: a vector, or a number for a one-unit layer in the vector shorthand.
    public var tensor: Tensor { Tensor(anyOf: value1, value2, nil) }
}

extension Components.Schemas.GradientResponse.LayersPayloadPayload.WeightGradientPayload {
    /// In the shape of the layer's `weights`.
    public var tensor: Tensor { Tensor(anyOf: nil, value1, value2) }
}

extension Components.Schemas.GradientResponse.LayersPayloadPayload.WeightDeltaPayload {
    /// In the shape of the layer's `weights`.
    public var tensor: Tensor { Tensor(anyOf: nil, value1, value2) }
}

extension Components.Schemas.GradientResponse.LayersPayloadPayload.BiasGradientPayload {
    /// In the shape of the layer's `biases`.
    public var tensor: Tensor { Tensor(anyOf: value1, value2, nil) }
}

extension Components.Schemas.GradientResponse.LayersPayloadPayload.BiasDeltaPayload {
    /// In the shape of the layer's `biases`.
    public var tensor: Tensor { Tensor(anyOf: value1, value2, nil) }
}
