/// Every layer's weighted inputs h and outputs y = f(h) for batches of up to
/// `capacity` samples: what a forward pass writes. An `Engine` owns one set; the
/// full-set loss gives each of its other threads a set of its own.
final class LayerOutputs {
    let shapes: [LayerShape]
    let capacity: Int
    /// Per layer, batch × units.
    let weighted: [Buffer]
    let outputs: [Buffer]

    init(shapes: [LayerShape], capacity: Int) {
        self.shapes = shapes
        self.capacity = capacity
        weighted = shapes.map { Buffer(count: capacity * $0.units) }
        outputs = shapes.map { Buffer(count: capacity * $0.units) }
    }

    /// h_l = a_{l−1}·W_l + b_l and a_l = f_l(h_l) for every layer, a_{−1} = input;
    /// a large product shared by up to `threads` threads (the same bits for any count).
    func forward(_ parameters: Parameters, input: UnsafePointer<Double>, batch: Int, threads: Int) {
        var previous = input
        for (index, shape) in shapes.enumerated() {
            let h = weighted[index].pointer, y = outputs[index].pointer
            Kernels.multiply(
                previous, parameters.weights[index].pointer, into: h,
                m: batch, k: shape.inputs, n: shape.units, threads: threads)
            if let bias = parameters.biases[index] {
                Kernels.addRowVector(bias.pointer, to: h, m: batch, n: shape.units)
            }
            y.update(from: h, count: batch * shape.units)
            shape.activation.apply(y, rows: batch, units: shape.units)
            previous = UnsafePointer(y)
        }
    }

    /// The summed loss of the last forward pass's `batch` samples against `target`,
    /// added sample by sample from 0.
    func lossSum(target: UnsafePointer<Double>, batch: Int, loss: Loss) -> Double {
        let last = shapes.count - 1, units = shapes[last].units
        let h = weighted[last].pointer, y = outputs[last].pointer
        var total = 0.0
        for r in 0..<batch {
            total += loss.value(
                h: h + r * units, y: y + r * units, t: target + r * units, count: units,
                activation: shapes[last].activation)
        }
        return total
    }
}
