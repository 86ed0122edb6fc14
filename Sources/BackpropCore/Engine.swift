/// Forward and backward passes over preallocated buffers, for batches of up to
/// `capacity` samples of one network shape.
///
/// One engine serves a whole training run: every pass reuses its buffers, so the
/// loop allocates nothing. Batches are matrices, so each layer is one matrix–matrix
/// product rather than a loop of vector products.
final class Engine {
    let shapes: [LayerShape]
    let capacity: Int
    /// Threads a large matrix product may use (the results are the same for any count).
    var threads = 1
    /// The forward pass's h and y per layer (batch × units).
    let layers: LayerOutputs
    var weighted: [Buffer] { layers.weighted }
    var outputs: [Buffer] { layers.outputs }
    /// Per layer: error terms δ (batch × units).
    let deltas: [Buffer]
    /// Per layer: ∂loss/∂W and ∂loss/∂b, averaged over the batch.
    let gradients: Parameters
    /// Scratch for Wᵀ, units × inputs, the largest layer's size.
    private let transposed: Buffer
    /// The full-set loss's buffers for its threads after the first, made on first use.
    var lossLayers: [LayerOutputs] = []

    init(parameters: Parameters, capacity: Int) {
        shapes = parameters.shapes
        self.capacity = capacity
        layers = LayerOutputs(shapes: shapes, capacity: capacity)
        deltas = shapes.map { Buffer(count: capacity * $0.units) }
        gradients = Parameters(zerosLike: parameters)
        transposed = Buffer(count: shapes.map { $0.inputs * $0.units }.max() ?? 0)
    }

    /// h_l = a_{l−1}·W_l + b_l and a_l = f_l(h_l) for every layer, a_{−1} = input.
    func forward(_ parameters: Parameters, input: UnsafePointer<Double>, batch: Int) {
        layers.forward(parameters, input: input, batch: batch, threads: threads)
    }

    /// The summed loss of the last forward pass's `batch` samples against `target`.
    func lossSum(target: UnsafePointer<Double>, batch: Int, loss: Loss) -> Double {
        layers.lossSum(target: target, batch: batch, loss: loss)
    }

    /// Backpropagation after `forward`: error terms δ_l = −∂E/∂h_l per sample, and
    /// gradients ∂(mean loss)/∂W_l = −a_{l−1}ᵀ·δ_l / batch, ∂/∂b_l = −Σ_rows δ_l / batch.
    ///
    /// δ_out comes from the loss; δ_l = (δ_{l+1}·W_{l+1}ᵀ) ⊙ f′_l(h_l) for the rest.
    func backward(
        _ parameters: Parameters, input: UnsafePointer<Double>, target: UnsafePointer<Double>,
        batch: Int, loss: Loss
    ) {
        let last = shapes.count - 1
        let outputUnits = shapes[last].units
        for r in 0..<batch {
            let offset = r * outputUnits
            loss.errorTerm(
                h: weighted[last].pointer + offset, y: outputs[last].pointer + offset,
                t: target + offset, into: deltas[last].pointer + offset, count: outputUnits,
                activation: shapes[last].activation)
        }
        let scale = -1 / Double(batch)
        for index in stride(from: last, through: 0, by: -1) {
            let shape = shapes[index]
            let delta = deltas[index].pointer
            let previous = index == 0 ? input : UnsafePointer(outputs[index - 1].pointer)
            let gradient = gradients.weights[index].pointer
            Kernels.multiplyTransposingLeft(
                previous, delta, into: gradient, m: shape.inputs, k: batch, n: shape.units, threads: threads)
            for i in 0..<shape.inputs * shape.units { gradient[i] *= scale }
            if let biasGradient = gradients.biases[index] {
                Kernels.columnSums(
                    delta, into: biasGradient.pointer, m: batch, n: shape.units, scale: scale)
            }
            guard index > 0 else { break }
            // δ_{l−1} = (δ_l · W_lᵀ) ⊙ f′(h_{l−1})
            let below = shapes[index - 1]
            Kernels.transpose(
                parameters.weights[index].pointer, into: transposed.pointer,
                m: shape.inputs, n: shape.units)
            let lower = deltas[index - 1].pointer
            Kernels.multiply(
                delta, transposed.pointer, into: lower, m: batch, k: shape.units, n: shape.inputs, threads: threads)
            let h = weighted[index - 1].pointer, y = outputs[index - 1].pointer
            for i in 0..<batch * below.units {
                lower[i] *= below.activation.derivative(h[i], output: y[i])
            }
        }
    }
}
