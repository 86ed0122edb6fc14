import CBackpropKernels

/// A thread's last small workspace, kept for the next step on the same shapes: a
/// server answering many small /gradient requests then allocates no buffers for them.
extension GradientWorkspace {
    /// Workspaces up to this many doubles (64 KiB) are kept between steps. A larger one
    /// is freed with its step: memory a thread keeps unseen stays small.
    static let reusableDoubles = 8192

    /// The doubles this workspace's buffers hold.
    var doubles: Int {
        var parameterCount = 0, perSample = 0, largestLayer = 0
        for shape in parameters.shapes {
            parameterCount += shape.inputs * shape.units + (shape.hasBias ? shape.units : 0)
            perSample += 3 * shape.units
            largestLayer = max(largestLayer, shape.inputs * shape.units)
        }
        return 2 * parameterCount + capacity * perSample + largestLayer
    }

    /// A workspace for `network` and batches of exactly `capacity` samples: this thread's
    /// kept one with `network`'s numbers loaded if its shapes and capacity match, else a new one.
    /// Hand it back with `keep(_:)` once its buffers have been read.
    static func borrow(for network: Network, capacity: Int) -> GradientWorkspace {
        if let opaque = bp_thread_slot_exchange(nil) {
            let kept = Unmanaged<GradientWorkspace>.fromOpaque(opaque).takeRetainedValue()
            if kept.capacity == capacity, kept.parameters.load(network) { return kept }
        }
        return GradientWorkspace(network, capacity: capacity)
    }

    /// Keeps `workspace` in this thread's slot for the next `borrow`, if it is small.
    package static func keep(_ workspace: GradientWorkspace) {
        guard workspace.doubles <= reusableDoubles else { return }
        let previous = bp_thread_slot_exchange(Unmanaged.passRetained(workspace).toOpaque())
        if let previous { Unmanaged<GradientWorkspace>.fromOpaque(previous).release() }
    }
}

extension Parameters {
    /// Copies `network`'s weights and biases into these buffers; false (nothing copied)
    /// if its layers' shapes differ from these.
    func load(_ network: Network) -> Bool {
        guard network.layers.count == shapes.count else { return false }
        for (layer, shape) in zip(network.layers, shapes) {
            guard layer.inputs == shape.inputs, layer.units == shape.units, (layer.biases != nil) == shape.hasBias,
                layer.activation == shape.activation
            else { return false }
        }
        for (index, layer) in network.layers.enumerated() {
            layer.weights.storage.withUnsafeBufferPointer { source in
                if let base = source.baseAddress { weights[index].pointer.update(from: base, count: source.count) }
            }
            if let values = layer.biases, let buffer = biases[index] {
                values.withUnsafeBufferPointer { source in
                    if let base = source.baseAddress { buffer.pointer.update(from: base, count: source.count) }
                }
            }
        }
        return true
    }
}
