/// Reusable buffers for repeated backpropagation steps on one network shape.
///
/// `Network.gradient` allocates its results; a caller computing many gradients
/// (a benchmark, an inner loop of its own) can keep one workspace and pay no
/// allocation per step. Not thread-safe: use one workspace per thread.
public final class GradientWorkspace {
    let parameters: Parameters
    let engine: Engine

    /// Buffers for `network` and batches of up to `capacity` samples.
    public convenience init(_ network: Network, capacity: Int = 1) {
        self.init(Parameters(network), capacity: capacity)
    }

    init(_ parameters: Parameters, capacity: Int) {
        self.parameters = parameters
        engine = Engine(parameters: parameters, capacity: max(1, capacity))
    }

    /// The largest batch `step` takes.
    public var capacity: Int { engine.capacity }

    /// Forward and backward for `batch` samples (row-major `input`, `target`);
    /// returns the mean loss. Throws if the buffers are not the sizes the network
    /// and `batch` need; the loss must fit the output layer (see `Loss.check`).
    public func step(
        input: UnsafeBufferPointer<Double>, target: UnsafeBufferPointer<Double>, batch: Int, loss: Loss
    ) throws(CoreError) -> Double {
        let shapes = parameters.shapes
        guard batch >= 1, batch <= capacity,
            input.count == batch * shapes[0].inputs, target.count == batch * shapes[shapes.count - 1].units,
            let x = input.baseAddress, let t = target.baseAddress
        else {
            throw CoreError(.shapeMismatch, "input and target must hold \(batch) samples of the network's sizes")
        }
        try loss.check(outputActivation: shapes[shapes.count - 1].activation)
        engine.forward(parameters, input: x, batch: batch)
        let total = engine.lossSum(target: t, batch: batch, loss: loss)
        engine.backward(parameters, input: x, target: t, batch: batch, loss: loss)
        return total / Double(batch)
    }

    /// ∂loss/∂W of `layer` from the last step, row-major inputs × units.
    public func weightGradient(_ layer: Int) -> UnsafeBufferPointer<Double> {
        let buffer = engine.gradients.weights[layer]
        return UnsafeBufferPointer(start: buffer.pointer, count: buffer.count)
    }

    /// ∂loss/∂b of `layer` from the last step, or nil without biases.
    public func biasGradient(_ layer: Int) -> UnsafeBufferPointer<Double>? {
        engine.gradients.biases[layer].map { UnsafeBufferPointer(start: $0.pointer, count: $0.count) }
    }

    /// The error terms δ of `layer` from the last step (batch × units, row-major).
    public func errorTerm(_ layer: Int, batch: Int) -> UnsafeBufferPointer<Double> {
        UnsafeBufferPointer(start: engine.deltas[layer].pointer, count: batch * parameters.shapes[layer].units)
    }
}
