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
        try engine.checkForward(batch: input.rows)
        return trace(engine, batch: input.rows)
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

    /// Every layer's h and f(h) from `engine`'s last forward pass, copied out.
    func trace(_ engine: Engine, batch: Int) -> [LayerTrace] {
        layers.indices.map { index in
            let count = batch * layers[index].units
            let h = Array(UnsafeBufferPointer(start: engine.weighted[index].pointer, count: count))
            let y = Array(UnsafeBufferPointer(start: engine.outputs[index].pointer, count: count))
            return LayerTrace(
                weightedInput: Matrix(rows: batch, columns: layers[index].units, unchecked: h),
                output: Matrix(rows: batch, columns: layers[index].units, unchecked: y))
        }
    }
}

extension Engine {
    /// Throws, naming the first layer (input side first) whose h or f(h) in the last
    /// forward pass of `batch` samples is not finite.
    func checkForward(batch: Int) throws(CoreError) {
        for (index, shape) in shapes.enumerated() {
            let count = batch * shape.units
            guard UnsafeBufferPointer(start: weighted[index].pointer, count: count).allFinite,
                UnsafeBufferPointer(start: outputs[index].pointer, count: count).allFinite
            else {
                throw CoreError(.nonFinite, "layer \(index) overflows: its values are not finite", at: .layer(index))
            }
        }
    }
}
