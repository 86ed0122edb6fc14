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

    /// A workspace for `network` and batches of exactly `capacity` samples, with
    /// `network`'s numbers loaded: this thread's kept one if its shapes and capacity
    /// match, else a new one (`borrow(layers:capacity:shape:)`). Hand it back with
    /// `keep(_:)` once its buffers have been read.
    static func borrow(for network: Network, capacity: Int) -> GradientWorkspace {
        let workspace = borrow(layers: network.layers.count, capacity: capacity) { index in
            let layer = network.layers[index]
            return (layer.inputs, layer.units, layer.biases != nil, layer.activation)
        }
        workspace.parameters.load(network)
        return workspace
    }

    /// Keeps `workspace` in this thread's slot for the next `borrow`, if it is small.
    package static func keep(_ workspace: GradientWorkspace) {
        guard workspace.doubles <= reusableDoubles else { return }
        let previous = bp_thread_slot_exchange(Unmanaged.passRetained(workspace).toOpaque())
        if let previous { Unmanaged<GradientWorkspace>.fromOpaque(previous).release() }
    }
}

extension Parameters {
    /// Copies `network`'s weights and biases into these buffers, whose shapes are its layers'.
    func load(_ network: Network) {
        for (index, layer) in network.layers.enumerated() {
            _ = weights[index].mutableBuffer.update(fromContentsOf: layer.weights.storage)
            if let values = layer.biases, let buffer = biases[index] {
                _ = buffer.mutableBuffer.update(fromContentsOf: values)
            }
        }
    }
}
