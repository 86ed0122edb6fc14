import CBackpropKernels

/// A workspace filled and read in place: the server's lean /gradient lane reads a
/// request's numbers straight into these buffers and writes its answer from them.
extension GradientWorkspace {
    /// This thread's kept workspace when its `layers` shapes (`shape(i)`) and its
    /// capacity match, else a new one with zero parameters. Fill its parameters,
    /// `step`, check it with `checkStep`, read it, then hand it back with `keep(_:)`.
    package static func borrow(
        layers: Int, capacity: Int, shape: (Int) -> (inputs: Int, units: Int, hasBias: Bool, activation: Activation)
    ) -> GradientWorkspace {
        func matches(_ shapes: [LayerShape]) -> Bool {
            guard shapes.count == layers else { return false }
            for index in 0..<layers {
                let (inputs, units, hasBias, activation) = shape(index)
                let kept = shapes[index]
                guard kept.inputs == inputs, kept.units == units, kept.hasBias == hasBias, kept.activation == activation
                else { return false }
            }
            return true
        }
        if let opaque = bp_thread_slot_exchange(nil) {
            let kept = Unmanaged<GradientWorkspace>.fromOpaque(opaque).takeRetainedValue()
            if kept.capacity == capacity, matches(kept.parameters.shapes) { return kept }
        }
        let shapes = (0..<layers).map { index in
            let (inputs, units, hasBias, activation) = shape(index)
            return LayerShape(inputs: inputs, units: units, hasBias: hasBias, activation: activation)
        }
        return GradientWorkspace(Parameters(shapes: shapes), capacity: capacity)
    }

    /// The weights of `layer`, row-major inputs × units, to be filled before `step`.
    package func weights(_ layer: Int) -> UnsafeMutableBufferPointer<Double> {
        parameters.weights[layer].mutableBuffer
    }

    /// The biases of `layer`, or nil without biases, to be filled before `step`.
    package func biases(_ layer: Int) -> UnsafeMutableBufferPointer<Double>? {
        parameters.biases[layer]?.mutableBuffer
    }

    /// The output layer's values f(h) from the last step (batch × units, row-major).
    package func output(batch: Int) -> UnsafeBufferPointer<Double> {
        let last = parameters.shapes.count - 1
        return UnsafeBufferPointer(start: engine.outputs[last].pointer, count: batch * parameters.shapes[last].units)
    }

    /// Throws, naming the layer or the loss, unless the last step's values are all
    /// finite: each layer's h and f(h) (input side first), then each layer's error
    /// terms and gradients, then `meanLoss`.
    package func checkStep(batch: Int, meanLoss: Double) throws(CoreError) {
        try engine.checkForward(batch: batch)
        for index in parameters.shapes.indices {
            guard errorTerm(index, batch: batch).allFinite, weightGradient(index).allFinite,
                biasGradient(index)?.allFinite ?? true
            else {
                throw CoreError(.nonFinite, "the gradient of layer \(index) is not finite", at: .layer(index))
            }
        }
        guard meanLoss.isFinite else {
            throw CoreError(.nonFinite, .naming("the loss is not finite"), at: .loss)
        }
    }
}
