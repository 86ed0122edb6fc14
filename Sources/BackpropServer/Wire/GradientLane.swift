import BackpropCore
import NIOCore

/// POST /gradient's lean lane: a small request in its common form, read straight
/// from the body into the compute buffers and answered from them.
///
/// The common form is the seed's: a network of given layers (`weights`, `biases`,
/// `activation`), `input`, `target`, and optionally `learning_rate` and `loss`, with
/// plain keys and finite numbers. Its numbers are read into one stack buffer, copied
/// into this thread's kept `GradientWorkspace`, and the answer is written from the
/// workspace's buffers: no JSON tree, no network value, no matrices.
///
/// The lane answers only what it knows to be a good request, by the core's own
/// rules (`Network.checkLayer`, `Loss.check`, `GradientWorkspace.checkStep`). Anything
/// else (another form, a fault of any kind, work over `inlineWork`) gives nil, and the
/// request is read the general way (`GradientWire`), which answers it, or its
/// precise problem, as before. Both give the same bytes (`GradientLaneTests`).
package enum GradientLane {
    /// The largest body the lane reads: its numbers are read onto the stack (8 bytes
    /// for every 2 of the body). The server offers it bodies of at most 2 KiB.
    static let maximumBodySize = 16 * 1024

    struct LayerRead {
        var weights = JSONParser.PlainTensor(kind: .scalar, start: 0, rows: 0, columns: 0)
        var biases: JSONParser.PlainTensor? = nil
        var activation = Activation.sigmoid
        /// Weights given as one vector: a one-unit layer written per sample as a number.
        var shorthand: Bool { weights.kind == .vector }
        var inputs: Int { shorthand ? weights.columns : weights.rows }
        var units: Int { shorthand ? 1 : weights.columns }
    }

    /// What the body asks for, its numbers in the reader's buffer.
    struct Read {
        /// At most 8 layers: a deeper network goes the general way.
        var layers = InlineArray<8, LayerRead>(repeating: LayerRead())
        var layerCount = 0
        var input: JSONParser.PlainTensor? = nil
        var target: JSONParser.PlainTensor? = nil
        var learningRate = 0.1
        var loss = Loss.squaredError
        /// The step's mean loss, once `checked` has run it.
        var meanLoss = 0.0
        var samples: Int { input.map { $0.kind == .matrix ? $0.rows : 1 } ?? 0 }
        var batch: Bool { input?.kind == .matrix }
    }

    /// The answer to `body` when it is a good request in the common form whose work
    /// (samples × parameters, as `WorkEstimate` counts it) is at most `inlineWork`;
    /// else nil.
    package static func respond(to body: UnsafeRawBufferPointer, limits: Limits, inlineWork: Int) -> ByteBuffer? {
        guard body.count <= maximumBodySize else { return nil }
        // Every number takes at least two bytes but the last: room for all of them.
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: body.count / 2 + 1) { numbers in
            var count = 0
            guard var read = read(body, into: numbers, count: &count),
                let workspace = checked(&read, numbers: numbers, limits: limits, inlineWork: inlineWork)
            else { return nil }
            defer { GradientWorkspace.keep(workspace) }
            return answer(read, numbers: numbers, workspace: workspace)
        }
    }

    /// Reads the body's fields; nil on anything outside the common form.
    static func read(_ body: UnsafeRawBufferPointer, into numbers: UnsafeMutableBufferPointer<Double>, count: inout Int) -> Read? {
        var parser = JSONParser(bytes: body.assumingMemoryBound(to: UInt8.self))
        var read = Read()
        var seen: (network: Bool, rate: Bool, loss: Bool) = (false, false, false)
        guard parser.take(UInt8(ascii: "{")) else { return nil }
        repeat {
            guard let key = parser.plainKey() else { return nil }
            if key.elementsEqual("network".utf8), !seen.network {
                seen.network = true
                guard readNetwork(&parser, into: &read, numbers: numbers, count: &count) else { return nil }
            } else if key.elementsEqual("input".utf8), read.input == nil {
                guard let input = parser.plainTensor(into: numbers, count: &count), input.kind != .scalar else { return nil }
                read.input = input
            } else if key.elementsEqual("target".utf8), read.target == nil {
                guard let target = parser.plainTensor(into: numbers, count: &count) else { return nil }
                read.target = target
            } else if key.elementsEqual("learning_rate".utf8), !seen.rate {
                seen.rate = true
                let at = count
                guard parser.plainNumber(into: numbers, count: &count), numbers[at] >= 0 else { return nil }
                read.learningRate = numbers[at]
            } else if key.elementsEqual("loss".utf8), !seen.loss, let loss = parser.plainName(Loss.self) {
                seen.loss = true
                read.loss = loss
            } else {
                return nil
            }
        } while parser.take(UInt8(ascii: ","))
        guard parser.take(UInt8(ascii: "}")), seen.network, read.input != nil, read.target != nil else { return nil }
        parser.skipWhitespace()
        return parser.index == body.count ? read : nil
    }

    /// `{"layers": [layer, …]}`, each layer `{"weights": …, "biases": …, "activation": …}`.
    private static func readNetwork(
        _ parser: inout JSONParser, into read: inout Read, numbers: UnsafeMutableBufferPointer<Double>, count: inout Int
    ) -> Bool {
        guard parser.take(UInt8(ascii: "{")), let key = parser.plainKey(), key.elementsEqual("layers".utf8),
            parser.take(UInt8(ascii: "["))
        else { return false }
        repeat {
            guard read.layerCount < read.layers.count, parser.take(UInt8(ascii: "{")) else { return false }
            var layer = LayerRead()
            var seen: (weights: Bool, activation: Bool) = (false, false)
            repeat {
                guard let key = parser.plainKey() else { return false }
                if key.elementsEqual("weights".utf8), !seen.weights {
                    seen.weights = true
                    guard let weights = parser.plainTensor(into: numbers, count: &count), weights.kind != .scalar
                    else { return false }
                    layer.weights = weights
                } else if key.elementsEqual("biases".utf8), layer.biases == nil {
                    guard let biases = parser.plainTensor(into: numbers, count: &count), biases.kind != .matrix
                    else { return false }
                    layer.biases = biases
                } else if key.elementsEqual("activation".utf8), !seen.activation,
                    let activation = parser.plainName(Activation.self)
                {
                    seen.activation = true
                    layer.activation = activation
                } else {
                    return false
                }
            } while parser.take(UInt8(ascii: ","))
            guard seen.weights, parser.take(UInt8(ascii: "}")) else { return false }
            read.layers[read.layerCount] = layer
            read.layerCount += 1
        } while parser.take(UInt8(ascii: ","))
        return parser.take(UInt8(ascii: "]")) && parser.take(UInt8(ascii: "}"))
    }
}
