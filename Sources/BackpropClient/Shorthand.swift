/// Convenient ways to write the request side of the scalar-or-array shorthand, where
/// the generated `oneOf` enums have cases named `case1`, `NonEmptyVector` and
/// `NonEmptyMatrix`.

extension Components.Schemas.Samples {
    /// One sample, a vector of the network's inputs.
    public static func sample(_ values: [Double]) -> Self { .NonEmptyVector(values) }
    /// A batch, one sample per row (a batch of one keeps its leading dimension).
    public static func batch(_ rows: [[Double]]) -> Self { .NonEmptyMatrix(rows) }
}

extension Components.Schemas.Target: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    /// The target of one sample of a one-unit output.
    public static func number(_ value: Double) -> Self { .case1(value) }
    /// One sample's target vector, or one number per sample of a batch for a one-unit output.
    public static func vector(_ values: [Double]) -> Self { .NonEmptyVector(values) }
    /// A batch's targets, one row per sample.
    public static func matrix(_ rows: [[Double]]) -> Self { .NonEmptyMatrix(rows) }

    public init(floatLiteral value: Double) { self = .case1(value) }
    public init(integerLiteral value: Int) { self = .case1(Double(value)) }
}

extension Components.Schemas.Layer {
    /// A layer given by its `n × m` weights, row-major, and its `m` biases (none: no bias).
    public static func given(
        weights: [[Double]], biases: [Double]? = nil, activation: Components.Schemas.Activation? = nil
    ) -> Self {
        .GivenLayer(.init(
            weights: .NonEmptyMatrix(weights), biases: biases.map { .NonEmptyVector($0) },
            activation: activation.map(Components.Schemas.ActivationOrNull.init)
        ))
    }

    /// A one-unit layer in the vector shorthand: its `n` weights and a number as its bias
    /// (none: no bias).
    public static func given(
        weights: [Double], bias: Double? = nil, activation: Components.Schemas.Activation? = nil
    ) -> Self {
        .GivenLayer(.init(
            weights: .NonEmptyVector(weights), biases: bias.map { .case1($0) },
            activation: activation.map(Components.Schemas.ActivationOrNull.init)
        ))
    }

    /// A layer of `units` units that the service initialises per the network's `init`
    /// and `seed` (with a zero bias unless `bias` is false).
    public static func generated(
        units: Int, bias: Bool? = nil, activation: Components.Schemas.Activation? = nil
    ) -> Self {
        .GeneratedLayer(.init(
            units: units, bias: bias, activation: activation.map(Components.Schemas.ActivationOrNull.init)
        ))
    }
}

extension Components.Schemas.ActivationOrNull {
    /// The request form of an activation the service reports.
    public init(_ activation: Components.Schemas.Activation) {
        // The two enums list the same names; `ActivationOrNull` adds only JSON's null.
        self = Self(rawValue: activation.rawValue)!
    }
}

extension Components.Schemas.Network {
    /// A network the service returned (trained, or generated and echoed), to send back:
    /// every layer given, keeping its shorthand.
    public init(_ network: Components.Schemas.NetworkOut) {
        self.init(layers: network.layers.map { layer in
            let weights: Components.Schemas.GivenLayer.WeightsPayload =
                switch layer.weights.tensor {
                case let .vector(values): .NonEmptyVector(values)
                case let .matrix(rows): .NonEmptyMatrix(rows)
                case let .scalar(value): .NonEmptyVector([value])  // never sent by the service
                }
            let biases: Components.Schemas.GivenLayer.BiasesPayload? =
                switch layer.biases?.tensor {
                case let .scalar(value)?: .case1(value)
                case let .vector(values)?: .NonEmptyVector(values)
                case let .matrix(rows)?: .NonEmptyVector(rows.flatMap { $0 })  // never sent by the service
                case nil: nil
                }
            return .GivenLayer(.init(
                weights: weights, biases: biases, activation: .init(layer.activation)
            ))
        })
    }
}

extension Components.Schemas.Optimizer {
    /// Stochastic gradient descent with its default settings (no momentum).
    public static var sgd: Self { .case1(.sgd) }
    /// Adam with its default settings (β1 0.9, β2 0.999, ε 1e-8).
    public static var adam: Self { .case1(.adam) }

    /// SGD with momentum, as `torch.optim.SGD` (no dampening).
    public static func sgd(momentum: Double, nesterov: Bool = false) -> Self {
        .SgdOptimizer(.init(name: .sgd, momentum: momentum, nesterov: nesterov))
    }

    /// Adam with the given settings, as `torch.optim.Adam`.
    public static func adam(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) -> Self {
        .AdamOptimizer(.init(name: .adam, beta1: beta1, beta2: beta2, epsilon: epsilon))
    }
}
