/// One layer's values in a forward pass, one row per sample.
public struct LayerTrace: Sendable, Equatable {
    /// h = x·W + b (the seed's `hidden_layer_input`).
    public var weightedInput: Matrix
    /// f(h) (the seed's `hidden_layer_output`).
    public var output: Matrix
}

extension Network {
    /// Runs a batch (one sample per row) through the network and returns every
    /// layer's weighted input and output, input side first.
    ///
    /// Throws `shapeMismatch` (at the inputs) if a row is not `inputs` wide, and
    /// `nonFinite` (at layer i) naming the first layer whose values overflow.
    public func forward(_ input: Matrix) throws(CoreError) -> [LayerTrace] {
        let (parameters, engine) = try prepare(input: input)
        input.storage.withUnsafeBufferPointer { x in
            engine.forward(parameters, input: x.baseAddress!, batch: input.rows)
        }
        return try trace(engine, batch: input.rows)
    }

    /// The network's output for a batch: `forward(input).last.output`.
    public func predict(_ input: Matrix) throws(CoreError) -> Matrix {
        try forward(input)[layers.count - 1].output
    }

    func prepare(input: Matrix) throws(CoreError) -> (Parameters, Engine) {
        try checkInput(input)
        let parameters = Parameters(self)
        return (parameters, Engine(parameters: parameters, capacity: input.rows))
    }

    /// Throws unless `input` holds at least one finite sample `inputs` wide.
    func checkInput(_ input: Matrix) throws(CoreError) {
        guard input.rows > 0 else {
            throw CoreError(.invalidValue, .naming("the input holds no samples"), at: .data(.training, .inputs))
        }
        guard input.columns == inputs else {
            throw CoreError(
                .shapeMismatch,
                .naming("each input sample has \(input.columns) values, but the network takes \(inputs)"),
                at: .data(.training, .inputs))
        }
        guard input.isFinite else {
            throw CoreError(.invalidValue, .naming("the input holds a non-finite number"), at: .data(.training, .inputs))
        }
    }

    func trace(_ engine: Engine, batch: Int) throws(CoreError) -> [LayerTrace] {
        var result: [LayerTrace] = []
        for (index, layer) in layers.enumerated() {
            let count = batch * layer.units
            let h = Matrix(
                rows: batch, columns: layer.units,
                unchecked: Array(UnsafeBufferPointer(start: engine.weighted[index].pointer, count: count)))
            let y = Matrix(
                rows: batch, columns: layer.units,
                unchecked: Array(UnsafeBufferPointer(start: engine.outputs[index].pointer, count: count)))
            guard h.isFinite, y.isFinite else {
                throw CoreError(
                    .nonFinite, "layer \(index) overflows: its values are not finite",
                    at: .layer(index))
            }
            result.append(LayerTrace(weightedInput: h, output: y))
        }
        return result
    }
}
