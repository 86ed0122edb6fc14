import ServiceLifecycle

/// Keeps the pool's threads for the life of the application and stops them
/// after the server has drained (services shut down in reverse order).
struct ComputePoolService: Service {
    let pool: ComputePool

    func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdown()
    }
}
