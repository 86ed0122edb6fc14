/// One layer's part of a backpropagation step.
public struct LayerGradient: Sendable, Equatable {
    /// δ = −∂E/∂h per sample (the seed's `output_error_term`, `hidden_error_term`).
    public var errorTerm: Matrix
    /// ∂loss/∂W, averaged over the batch; the shape of the weights.
    public var weightGradient: Matrix
    /// ∂loss/∂b, averaged over the batch; nil for a layer without biases.
    public var biasGradient: [Double]?
}

/// The result of one backpropagation step on a batch.
public struct GradientResult: Sendable, Equatable {
    /// Every layer's weighted input and output, input side first.
    public var trace: [LayerTrace]
    /// Every layer's error terms and gradients, input side first.
    public var layers: [LayerGradient]
    /// The loss averaged over the samples.
    public var loss: Double

    /// The network's output, one row per sample.
    public var output: Matrix { trace[trace.count - 1].output }
}

extension Network {
    /// Backpropagates one batch (one sample per row) against `target` (one row per
    /// sample, `outputs` wide) without changing the network.
    ///
    /// Throws with a location (the inputs, the targets or one of their rows, the loss,
    /// layer i) when the shapes disagree, the loss does not fit the output layer, a target is not
    /// valid for the loss, or a value overflows.
    public func gradient(input: Matrix, target: Matrix, loss: Loss) throws(CoreError) -> GradientResult {
        try loss.check(outputActivation: outputActivation)
        try checkTarget(target, samples: input.rows, loss: loss)
        try checkInput(input)
        // This thread's last small workspace when the shapes match: no buffers allocated.
        let workspace = GradientWorkspace.borrow(for: self, capacity: input.rows)
        defer { GradientWorkspace.keep(workspace) }
        let engine = workspace.engine
        let meanLoss = try input.storage.withUnsafeBufferPointer { x throws(CoreError) in
            try target.storage.withUnsafeBufferPointer { t throws(CoreError) in
                try workspace.step(input: x, target: t, batch: input.rows, loss: loss)
            }
        }
        try workspace.checkStep(batch: input.rows, meanLoss: meanLoss)
        let gradients = layers.indices.map { index in
            LayerGradient(
                errorTerm: Matrix(
                    rows: input.rows, columns: layers[index].units,
                    unchecked: Array(workspace.errorTerm(index, batch: input.rows))),
                weightGradient: Matrix(
                    rows: layers[index].inputs, columns: layers[index].units,
                    unchecked: Array(workspace.weightGradient(index))),
                biasGradient: workspace.biasGradient(index).map(Array.init))
        }
        let trace = trace(engine, batch: input.rows)
        return GradientResult(trace: trace, layers: gradients, loss: meanLoss)
    }

    /// Throws unless `target` has one finite row per sample, `outputs` wide, valid for `loss`.
    public func checkTarget(_ target: Matrix, samples: Int, loss: Loss) throws(CoreError) {
        guard target.rows == samples else {
            throw CoreError(
                .shapeMismatch, "there are \(target.rows) targets for \(samples) samples",
                at: .data(.training, .targets))
        }
        guard target.columns == outputs else {
            throw CoreError(
                .shapeMismatch,
                "each target has \(target.columns) values, but the network has \(outputs) outputs",
                at: .data(.training, .targets))
        }
        try loss.check(targets: target, outputActivation: outputActivation)
    }
}
