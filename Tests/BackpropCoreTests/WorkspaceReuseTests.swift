@testable import BackpropCore
import BackpropTestSupport
import Testing

/// Network.gradient reuses this thread's last small workspace: the same bits as a
/// fresh one, whatever network ran in it before.
@Suite struct WorkspaceReuseTests {
    static func network(seed: UInt64, bias: Bool = true, activation: Activation = .sigmoid) throws -> Network {
        try Network(
            inputs: 3,
            blueprints: [
                .generated(LayerSpec(units: 4, activation: .tanh, bias: bias)),
                .generated(LayerSpec(units: 2, activation: activation, bias: bias)),
            ],
            initializer: .auto, seed: seed)
    }

    @Test func aReusedWorkspaceGivesTheBitsOfAFreshOne() throws {
        let input = try Matrix([[0.5, -0.1, 0.2], [1, 2, -3]])
        let target = try Matrix([[0.2, 0.7], [0.9, 0.1]])
        let a = try Self.network(seed: 1), b = try Self.network(seed: 2)
        let fresh = try b.gradient(input: input, target: target, loss: .squaredError)
        // Synchronous calls on one thread: b's second step runs in a's workspace.
        for _ in 0..<3 {
            let other = try a.gradient(input: input, target: target, loss: .squaredError)
            #expect(other != fresh)
            let again = try b.gradient(input: input, target: target, loss: .squaredError)
            #expect(again == fresh)
        }
        // Other shapes, biases, activations and batch sizes take a new workspace.
        let noBias = try Self.network(seed: 2, bias: false)
        let softmax = try Self.network(seed: 2, activation: .softmax)
        for network in [noBias, softmax, b] {
            let one = try network.gradient(input: Matrix(row: [0.5, -0.1, 0.2]), target: Matrix(row: [0.2, 0.8]), loss: .squaredError)
            let workspace = GradientWorkspace(network, capacity: 1)
            let loss = try [0.5, -0.1, 0.2].withUnsafeBufferPointer { x in
                try [0.2, 0.8].withUnsafeBufferPointer { t in try workspace.step(input: x, target: t, batch: 1, loss: .squaredError) }
            }
            #expect(one.loss == loss)
            for layer in 0..<2 {
                #expect(one.layers[layer].weightGradient.storage == Array(workspace.weightGradient(layer)))
            }
        }
    }

    @Test func onlySmallWorkspacesAreKeptAndOnlyMatchingOnesReused() throws {
        let small = try Self.network(seed: 3)
        let workspace = GradientWorkspace.borrow(for: small, capacity: 2)
        GradientWorkspace.keep(workspace)
        #expect(GradientWorkspace.borrow(for: small, capacity: 2) === workspace)
        GradientWorkspace.keep(workspace)
        // Another capacity: a new one (and the kept one is let go).
        #expect(GradientWorkspace.borrow(for: small, capacity: 3) !== workspace)
        let large = try Network(
            inputs: 100, blueprints: [.generated(LayerSpec(units: 100, activation: .sigmoid, bias: true))],
            initializer: .auto, seed: 4)
        let big = GradientWorkspace.borrow(for: large, capacity: 1)
        #expect(big.doubles > GradientWorkspace.reusableDoubles)
        GradientWorkspace.keep(big)
        #expect(GradientWorkspace.borrow(for: large, capacity: 1) !== big)
    }
}
