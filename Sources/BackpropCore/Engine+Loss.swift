import Dispatch

extension Engine {
    /// The mean loss over a whole data set, in chunks of up to `capacity` samples.
    ///
    /// Each chunk's loss is summed sample by sample from 0, and the chunks' sums are
    /// added in order. With `threads` > 1 and more than one chunk, the chunks are shared
    /// out whole, each thread taking a run of them through a forward pass of its own (the
    /// weights do not change during the pass), and the sums are still added in chunk
    /// order: the same bits for any thread count. On the 2-vCPU guest of BENCHMARKS.md
    /// this took the 784-128-10 network's pass over 8,192 samples from 29 ms (its products
    /// too small to split) to 16 ms.
    func meanLoss(_ parameters: Parameters, on set: Dataset, loss: Loss) -> Double {
        let samples = set.inputs.rows, chunks = (samples + capacity - 1) / capacity
        let parts = min(threads, chunks)
        var total = 0.0
        set.inputs.storage.withUnsafeBufferPointer { inputs in
            set.targets.storage.withUnsafeBufferPointer { targets in
                /// Chunk `chunk`'s forward pass through `layers`, and its summed loss.
                func chunkLoss(_ chunk: Int, _ layers: LayerOutputs, threads: Int) -> Double {
                    let start = chunk * capacity, size = min(capacity, samples - start)
                    layers.forward(
                        parameters, input: inputs.baseAddress! + start * set.inputs.columns, batch: size,
                        threads: threads)
                    return layers.lossSum(
                        target: targets.baseAddress! + start * set.targets.columns, batch: size, loss: loss)
                }
                guard parts > 1 else {
                    for chunk in 0..<chunks { total += chunkLoss(chunk, layers, threads: threads) }
                    return
                }
                while lossLayers.count < parts - 1 {
                    lossLayers.append(LayerOutputs(shapes: shapes, capacity: capacity))
                }
                var sums = [Double](repeating: 0, count: chunks)
                sums.withUnsafeMutableBufferPointer { sums in
                    // Each part reads the set and the parameters and writes its own chunks' sums.
                    nonisolated(unsafe) let (sums, everyLayers) = (sums, [layers] + lossLayers)
                    nonisolated(unsafe) let chunkLoss = chunkLoss
                    DispatchQueue.concurrentPerform(iterations: parts) { part in
                        for chunk in chunks * part / parts..<chunks * (part + 1) / parts {
                            sums[chunk] = chunkLoss(chunk, everyLayers[part], 1)
                        }
                    }
                }
                for sum in sums { total += sum }
            }
        }
        return total / Double(samples)
    }
}
