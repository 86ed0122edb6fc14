import BackpropCore

/// Inference on stored networks (`/v2/models/{name}/infer`, and `/forward` naming a
/// stored network without `trace`): the outputs for a batch of samples, computed on
/// the compute pool.
///
/// With dynamic batching on (`Configuration.batchMaxSize` above 1), concurrent calls
/// for the same name and version are gathered into one matrix product
/// (`InferenceBatcher`), each caller getting exactly the rows, to the bit, it would
/// get alone. Off under the OpenBLAS trait, whose dgemm may sum a row differently
/// with the number of rows.
final class NetworkInference: Sendable {
    let pool: ComputePool
    /// Nil when batching is off.
    let batcher: InferenceBatcher?

    init(pool: ComputePool, batchMaxSize: Int = 1, batchMaxWaitMicroseconds: Int = 0) {
        self.pool = pool
        batcher =
            batchMaxSize > 1 && matrixKernelName != "openblas"
            ? InferenceBatcher(pool: pool, maxRows: batchMaxSize, maxWaitMicroseconds: batchMaxWaitMicroseconds)
            : nil
    }

    /// The last layer's output for `input` (one row a sample).
    func forward(_ stored: StoredNetwork, _ input: Matrix) async throws -> Matrix {
        do {
            return try await output(stored, input)
        } catch let error as CoreError {
            throw Problem(error, names: .sample(network: JSONPointer(["network"]), batch: true))
        }
    }

    /// Whether a call with `rows` samples is batched: those of a full batch or more run alone.
    func batches(rows: Int) -> Bool {
        guard let batcher else { return false }
        return rows < batcher.maxRows
    }

    /// `forward`, throwing the core's error as it is (for callers that name their own fields).
    func output(_ stored: StoredNetwork, _ input: Matrix) async throws -> Matrix {
        let network = stored.network
        // An input the network would refuse runs alone, for its own error.
        if let batcher, input.rows > 0, input.rows < batcher.maxRows, input.columns == network.inputs, input.isFinite {
            return try await batcher.forward(stored, input)
        }
        return try await pool.run { _ in try network.predict(input) }
    }
}
