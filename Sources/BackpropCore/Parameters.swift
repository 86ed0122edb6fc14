/// A network's weights and biases in owned buffers, for in-place updates.
final class Parameters {
    let shapes: [LayerShape]
    let weights: [Buffer]
    let biases: [Buffer?]

    init(_ network: Network) {
        shapes = network.layers.map {
            LayerShape(
                inputs: $0.inputs, units: $0.units, hasBias: $0.biases != nil,
                activation: $0.activation)
        }
        weights = network.layers.map { Buffer($0.weights.storage) }
        biases = network.layers.map { $0.biases.map(Buffer.init) }
    }

    /// Zero-filled buffers of the same shapes (gradients, optimizer state).
    convenience init(zerosLike other: Parameters) {
        self.init(shapes: other.shapes)
    }

    /// Zero-filled buffers of `shapes`.
    init(shapes: [LayerShape]) {
        self.shapes = shapes
        weights = shapes.map { Buffer(count: $0.inputs * $0.units) }
        biases = shapes.map { $0.hasBias ? Buffer(count: $0.units) : nil }
    }

    /// Every tensor in a fixed order: each layer's weights, then its biases.
    /// `isWeight` is false for biases (no l1/l2 on them).
    var tensors: [(buffer: Buffer, isWeight: Bool)] {
        var result: [(Buffer, Bool)] = []
        for index in shapes.indices {
            result.append((weights[index], true))
            if let bias = biases[index] { result.append((bias, false)) }
        }
        return result
    }

    func copy(from other: Parameters) {
        for (target, source) in zip(tensors, other.tensors) { target.buffer.copy(from: source.buffer) }
    }

    var isFinite: Bool { tensors.allSatisfy { $0.buffer.isFinite } }

    /// The parameters as a network value.
    var network: Network {
        Network(
            unchecked: shapes.indices.map { index in
                let shape = shapes[index]
                return Layer(
                    weights: Matrix(
                        rows: shape.inputs, columns: shape.units, unchecked: weights[index].array),
                    biases: biases[index]?.array,
                    activation: shape.activation)
            })
    }
}
