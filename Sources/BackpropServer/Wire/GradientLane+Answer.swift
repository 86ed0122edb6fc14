import BackpropCore
import NIOCore

/// The lane's checks, its step and its answer.
extension GradientLane {
    /// The workspace after a step on `read`, when every check passes: the core's rules
    /// for the layers, the loss and the targets, the server's limits, finite results and
    /// deltas. Turns the target's numbers into the error, target − output. Else nil.
    static func checked(
        _ read: inout Read, numbers: UnsafeMutableBufferPointer<Double>, limits: Limits, inlineWork: Int
    ) -> GradientWorkspace? {
        guard let input = read.input, let target = read.target else { return nil }
        let layerCount = read.layerCount, samples = read.samples, batch = read.batch
        var parameters = 0, estimate = 0
        for index in 0..<layerCount {
            let layer = read.layers[index]
            guard
                (try? Network.checkLayer(
                    index, of: layerCount, inputs: layer.inputs, units: layer.units,
                    previousUnits: index > 0 ? read.layers[index - 1].units : nil, weightsAreFinite: true,
                    biases: layer.biases.map { ($0.count, true) }, activation: layer.activation)) != nil
            else { return nil }
            parameters += layer.inputs * layer.units + (layer.biases?.count ?? 0)
            estimate += WorkEstimate.parameters(rows: layer.inputs, columns: layer.units)
        }
        let last = read.layers[layerCount - 1]
        let units = last.units
        guard parameters <= limits.maximumParameters, samples * estimate <= inlineWork,
            input.columns == read.layers[0].inputs
        else { return nil }
        guard Tensor.isTarget(target.kind, rows: target.rows, columns: target.columns, batch: batch, samples: samples, units: units)
        else { return nil }
        let x = UnsafeBufferPointer(rebasing: numbers[input.start..<(input.start + input.count)])
        let targets = UnsafeMutableBufferPointer(rebasing: numbers[target.start..<(target.start + target.count)])
        guard (try? read.loss.check(outputActivation: last.activation)) != nil,
            (try? read.loss.check(targets: UnsafeBufferPointer(targets), rows: samples, outputActivation: last.activation))
                != nil
        else { return nil }
        let workspace = GradientWorkspace.borrow(layers: layerCount, capacity: samples) { index in
            let layer = read.layers[index]
            return (layer.inputs, layer.units, layer.biases != nil, layer.activation)
        }
        for index in 0..<layerCount {
            let layer = read.layers[index]
            _ = workspace.weights(index).update(fromContentsOf: numbers[layer.weights.start..<(layer.weights.start + layer.weights.count)])
            if let biases = layer.biases, let buffer = workspace.biases(index) {
                _ = buffer.update(fromContentsOf: numbers[biases.start..<(biases.start + biases.count)])
            }
        }
        let rate = read.learningRate
        guard let meanLoss = try? workspace.step(input: x, target: UnsafeBufferPointer(targets), batch: samples, loss: read.loss),
            (try? workspace.checkStep(batch: samples, meanLoss: meanLoss)) != nil,
            (0..<layerCount).allSatisfy({ index in
                workspace.weightGradient(index).allSatisfy { (rate * $0).isFinite }
                    && workspace.biasGradient(index)?.allSatisfy({ (rate * $0).isFinite }) != false
            })
        else {
            GradientWorkspace.keep(workspace)
            return nil
        }
        let output = workspace.output(batch: samples)
        for i in targets.indices { targets[i] -= output[i] }
        guard UnsafeBufferPointer(targets).allFinite else {
            GradientWorkspace.keep(workspace)
            return nil
        }
        read.meanLoss = meanLoss
        return workspace
    }

    /// The answer, as `GradientWire` writes it: output, error, loss, then each layer's
    /// error terms, gradients and deltas (−learning_rate × gradient, written over the
    /// layer's numbers read from the body, already copied into the workspace).
    static func answer(_ read: Read, numbers: UnsafeMutableBufferPointer<Double>, workspace: GradientWorkspace) -> ByteBuffer {
        let samples = read.samples, batch = read.batch, layerCount = read.layerCount
        let last = read.layers[layerCount - 1]
        var doubles = 2 * samples * last.units + 1, rows = 2 * samples
        for index in 0..<layerCount {
            let layer = read.layers[index]
            doubles += samples * layer.units + 2 * (layer.inputs * layer.units + layer.units)
            rows += samples + 2 * layer.inputs
        }
        var buffer = ByteBuffer()
        JSONWriter.write(into: &buffer, bound: 26 * doubles + 4 * rows + 96 * (layerCount + 1) + 32, pretty: false) { writer in
            /// Values per sample, as `Matrix.perSample` writes them.
            func perSample(_ values: UnsafeBufferPointer<Double>, scalar: Bool, units: Int) {
                switch (batch, scalar) {
                case (false, true): writer.writeNumber(values[0])
                case (false, false), (true, true): writer.writeNumbers(values)
                case (true, false): writer.writeRows(values, columns: units, indent: 0)
                }
            }
            /// Weights or biases, as `Matrix.weightsJSON` and `GradientWire` write them.
            func parameters(_ values: UnsafeBufferPointer<Double>, scalar: Bool, units: Int, bias: Bool) {
                if bias, scalar { writer.writeNumber(values[0]) }
                else if scalar || bias { writer.writeNumbers(values) }
                else { writer.writeRows(values, columns: units, indent: 0) }
            }
            /// The values, then the values × −learning_rate written over `slots`.
            func gradientAndDelta(
                _ gradient: UnsafeBufferPointer<Double>, into slots: JSONParser.PlainTensor, scalar: Bool, units: Int,
                bias: Bool
            ) {
                parameters(gradient, scalar: scalar, units: units, bias: bias)
                writer.text(bias ? ",\"bias_delta\":" : ",\"weight_delta\":")
                let delta = UnsafeMutableBufferPointer(rebasing: numbers[slots.start..<(slots.start + gradient.count)])
                for i in 0..<gradient.count { delta[i] = -read.learningRate * gradient[i] }
                parameters(UnsafeBufferPointer(delta), scalar: scalar, units: units, bias: bias)
            }
            let error = read.target.map { UnsafeBufferPointer(rebasing: numbers[$0.start..<($0.start + $0.count)]) }!
            writer.text("{\"output\":")
            perSample(workspace.output(batch: samples), scalar: last.shorthand, units: last.units)
            writer.text(",\"error\":")
            perSample(error, scalar: last.shorthand, units: last.units)
            writer.text(",\"loss\":")
            writer.writeNumber(read.meanLoss)
            writer.text(",\"layers\":[")
            for index in 0..<layerCount {
                let layer = read.layers[index]
                writer.text(index == 0 ? "{\"error_term\":" : ",{\"error_term\":")
                perSample(workspace.errorTerm(index, batch: samples), scalar: layer.shorthand, units: layer.units)
                writer.text(",\"weight_gradient\":")
                gradientAndDelta(
                    workspace.weightGradient(index), into: layer.weights, scalar: layer.shorthand, units: layer.units,
                    bias: false)
                if let biases = layer.biases, let gradient = workspace.biasGradient(index) {
                    writer.text(",\"bias_gradient\":")
                    gradientAndDelta(gradient, into: biases, scalar: layer.shorthand, units: layer.units, bias: true)
                }
                writer.byte(UInt8(ascii: "}"))
            }
            writer.text("]}")
        }
        return buffer
    }
}
