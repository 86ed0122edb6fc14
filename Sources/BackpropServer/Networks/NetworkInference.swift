import BackpropCore

/// Inference on stored networks (`/v2/models/{name}/infer`): the outputs for a batch
/// of samples, computed on the compute pool.
///
/// The seam for dynamic batching: concurrent calls for the same name and version may
/// be gathered into one matrix product, each caller getting exactly the rows it
/// would get alone.
final class NetworkInference: Sendable {
    let pool: ComputePool

    init(pool: ComputePool) {
        self.pool = pool
    }

    /// The last layer's output for `input` (one row a sample).
    func forward(_ stored: StoredNetwork, _ input: Matrix) async throws -> Matrix {
        try await pool.run { _ in
            do throws(CoreError) {
                return try stored.network.forward(input).last!.output
            } catch {
                throw Problem(error, names: .sample(network: JSONPointer(["network"]), batch: true))
            }
        }
    }
}
