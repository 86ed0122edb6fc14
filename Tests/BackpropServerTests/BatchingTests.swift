import BackpropCore
import BackpropTestSupport
import Dispatch
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

@testable import BackpropServer

/// Dynamic batching (`InferenceBatcher` behind `NetworkInference`): concurrent calls
/// for one stored network are gathered, every caller gets the bits it would get
/// alone, and the pool's admission and cancellation still hold.
@Suite(.timeLimit(.minutes(2))) struct BatchingTests {
    static func random(_ count: Int, _ generator: inout SeededGenerator) -> [Double] {
        (0..<count).map { _ in generator.nextUnit() * 2 - 1 }
    }

    /// A stored 784-128-10 network (ReLU, softmax), seeded.
    static func mnistShaped(seed: UInt64 = 7) throws -> StoredNetwork {
        var generator = SeededGenerator(seed: seed)
        let network = try Network(layers: [
            Layer(
                weights: try Matrix(rows: 784, columns: 128, storage: random(784 * 128, &generator).map { $0 * 0.05 }),
                biases: random(128, &generator), activation: .relu),
            Layer(
                weights: try Matrix(rows: 128, columns: 10, storage: random(1280, &generator)),
                biases: random(10, &generator), activation: .softmax),
        ])
        return StoredNetwork(
            name: "mnist", version: 1, createdAt: Date(), content: NetworkContent(network: network, shorthand: [false, false]))
    }

    /// Occupies the pool's one thread until `release` is signalled; returns once it runs.
    static func occupy(_ pool: ComputePool, release: DispatchSemaphore) async -> Task<Int, any Error> {
        let started = DispatchSemaphore(value: 0)
        let blocker = Task { try await pool.run { _ in started.signal(); release.wait(); return 0 } }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { started.wait(); continuation.resume() }
        }
        return blocker
    }

    /// Many tasks at once, each with its own samples (1 to 5 rows), batching on with
    /// several maximum sizes and waits: every answer has the bits of the network run
    /// on that input alone, and calls were gathered.
    @Test(arguments: [(8, 0), (32, 200), (64, 2000), (5, 50)])
    func concurrentCallersGetTheirRowsAloneToTheBit(maxSize: Int, maxWait: Int) async throws {
        let stored = try Self.mnistShaped()
        let pool = ComputePool(threads: 2, queue: 256)
        let inference = NetworkInference(pool: pool, batchMaxSize: maxSize, batchMaxWaitMicroseconds: maxWait)
        var generator = SeededGenerator(seed: UInt64(maxSize * 1000 + maxWait))
        let inputs = try (0..<200).map { index in
            let rows = 1 + index % 5
            return try Matrix(rows: rows, columns: 784, storage: Self.random(rows * 784, &generator))
        }
        let expected = try inputs.map { try stored.network.predict($0).storage.map(\.bitPattern) }
        let outputs = try await withThrowingTaskGroup(of: (Int, [UInt64]).self) { group in
            for (index, input) in inputs.enumerated() {
                group.addTask { (index, try await inference.forward(stored, input).storage.map(\.bitPattern)) }
            }
            var outputs = [[UInt64]](repeating: [], count: inputs.count)
            for try await (index, bits) in group { outputs[index] = bits }
            return outputs
        }
        for index in inputs.indices { #expect(outputs[index] == expected[index], "caller \(index)") }
        let started = try #require(inference.batcher).started
        // Inputs of a full batch or more run alone; the rest were gathered.
        #expect(started.calls == inputs.filter { $0.rows < maxSize }.count)
        #expect(started.batches < started.calls)
        #expect(pool.waiting == 0)
        try await pool.shutdown()
    }

    /// While the pool's thread is busy, calls gather into one batch; those cancelled
    /// meanwhile leave it (and the pool) and get `CancellationError`, and the others
    /// still get their own rows.
    @Test func cancelledCallersLeaveTheBatchWithoutBreakingIt() async throws {
        let stored = try Self.mnistShaped(seed: 8)
        let pool = ComputePool(threads: 1, queue: 64)
        let inference = NetworkInference(pool: pool, batchMaxSize: 64, batchMaxWaitMicroseconds: 0)
        let release = DispatchSemaphore(value: 0)
        let blocker = await Self.occupy(pool, release: release)
        var generator = SeededGenerator(seed: 9)
        let inputs = try (0..<12).map { _ in try Matrix(rows: 1, columns: 784, storage: Self.random(784, &generator)) }
        let tasks = inputs.map { input in Task { try await inference.forward(stored, input) } }
        // Every call admitted and in the batch (admitted first, then joined).
        while inference.batcher?.pending ?? 0 < inputs.count { await Task.yield() }
        // The first caller opened the batch, whose job waits in the queue: cancel it and two more.
        for index in [0, 5, 11] { tasks[index].cancel() }
        for index in [0, 5, 11] { await #expect(throws: CancellationError.self) { try await tasks[index].value } }
        #expect(pool.waiting == inputs.count - 3)
        release.signal()
        #expect(try await blocker.value == 0)
        for index in inputs.indices where ![0, 5, 11].contains(index) {
            let output = try await tasks[index].value
            #expect(output.storage.map(\.bitPattern) == (try stored.network.predict(inputs[index])).storage.map(\.bitPattern))
        }
        #expect(inference.batcher?.started.batches == 1)
        #expect(inference.batcher?.started.calls == inputs.count - 3)
        #expect(pool.waiting == 0)
        try await pool.shutdown()
    }

    /// A batch whose every caller is cancelled leaves the pool's queue; its places are free.
    @Test func aBatchLeftByAllItsCallersIsWithdrawn() async throws {
        let stored = try Self.mnistShaped(seed: 10)
        let pool = ComputePool(threads: 1, queue: 2)
        let inference = NetworkInference(pool: pool, batchMaxSize: 8, batchMaxWaitMicroseconds: 0)
        let release = DispatchSemaphore(value: 0)
        let blocker = await Self.occupy(pool, release: release)
        let input = try Matrix(rows: 1, columns: 784, storage: Array(repeating: 0.5, count: 784))
        let calls = (0..<2).map { _ in Task { try await inference.forward(stored, input) } }
        while pool.waiting < 2 { await Task.yield() }
        // Full: each batched call holds a place, and the next is refused.
        await #expect(throws: Problem.self) { try await inference.forward(stored, input) }
        for call in calls { call.cancel() }
        for call in calls { await #expect(throws: CancellationError.self) { try await call.value } }
        #expect(pool.waiting == 0)
        release.signal()
        #expect(try await blocker.value == 0)
        #expect(try await inference.forward(stored, input).rows == 1)
        #expect(inference.batcher?.started.batches == 1)
        try await pool.shutdown()
    }

    /// A caller whose input overflows the network gets its own error; the others in
    /// its batch their own rows.
    @Test func aFailingCallerGetsItsErrorAndTheOthersTheirRows() async throws {
        let network = try Network(layers: [
            Layer(weights: try Matrix(rows: 2, columns: 1, storage: [1e300, 1e300]), activation: .linear)
        ])
        let stored = StoredNetwork(
            name: "big", version: 1, createdAt: Date(), content: NetworkContent(network: network, shorthand: [true]))
        let pool = ComputePool(threads: 1, queue: 8)
        let inference = NetworkInference(pool: pool, batchMaxSize: 8, batchMaxWaitMicroseconds: 0)
        let release = DispatchSemaphore(value: 0)
        let blocker = await Self.occupy(pool, release: release)
        let small = Task { try await inference.forward(stored, try Matrix([[1e-300, 2e-300]])) }
        while pool.waiting < 1 { await Task.yield() }
        let huge = Task { try await inference.forward(stored, try Matrix([[1e10, 1e10]])) }
        while pool.waiting < 2 { await Task.yield() }
        release.signal()
        #expect(try await blocker.value == 0)
        #expect(try await small.value == (try network.predict(try Matrix([[1e-300, 2e-300]]))))
        await #expect(throws: Problem.self) { try await huge.value }
        try await pool.shutdown()
    }
}

/// POST /forward on a stored network goes through the batcher with the same answer,
/// byte for byte, as without batching: output per sample, the scalar shorthand, and
/// `stored_network`.
@Suite(.timeLimit(.minutes(2))) struct BatchedForwardTests {
    static let network = """
        {"layers": [{"weights": [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]], "biases": [0.01, -0.02]},
                    {"weights": [0.1, -0.3], "activation": "tanh"}]}
        """

    /// One sample, or a batch of two; seeded.
    static func bodies() -> [String] {
        var generator = SeededGenerator(seed: 21)
        func sample() -> String { "[\((0..<3).map { _ in String(generator.nextUnit() * 4 - 2) }.joined(separator: ", "))]" }
        return (0..<48).map { index in
            let input = index % 3 == 0 ? "[\(sample()), \(sample())]" : sample()
            return #"{"network": {"name": "hl"}, "input": \#(input)}"#
        }
    }

    static func answers(batching: Bool, concurrently: Bool) async throws -> [String] {
        let configuration = testConfiguration {
            if batching {
                $0.batchMaxSize = 8
                $0.batchMaxWaitMicroseconds = 300
            }
        }
        return try await buildApplication(configuration).test(.router) { client in
            let put = try await client.execute(uri: "/networks/hl", method: .put, body: ByteBuffer(string: network))
            #expect(put.status == .created)
            let bodies = Self.bodies()
            guard concurrently else {
                var answers: [String] = []
                for body in bodies {
                    let response = try await client.post("/forward", body)
                    #expect(response.status == .ok)
                    answers.append(String(buffer: response.body))
                }
                return answers
            }
            return try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (index, body) in bodies.enumerated() {
                    group.addTask {
                        let response = try await client.post("/forward", body)
                        #expect(response.status == .ok)
                        return (index, String(buffer: response.body))
                    }
                }
                var answers = [String](repeating: "", count: bodies.count)
                for try await (index, answer) in group { answers[index] = answer }
                return answers
            }
        }
    }

    @Test func batchedAnswersAreTheUnbatchedOnesByteForByte() async throws {
        let unbatched = try await Self.answers(batching: false, concurrently: false)
        let batched = try await Self.answers(batching: true, concurrently: true)
        #expect(batched == unbatched)
        #expect(unbatched[1].hasPrefix(#"{"output":"#))
        #expect(unbatched[1].contains(#""stored_network":{"name":"hl","version":1}"#))
        // One sample of a shorthand last layer: a number; a batch: one number per sample.
        let single = try JSONSerialization.jsonObject(with: Data(unbatched[1].utf8)) as? [String: Any]
        #expect(single?["output"] is NSNumber)
        let batch = try JSONSerialization.jsonObject(with: Data(unbatched[0].utf8)) as? [String: Any]
        #expect((batch?["output"] as? [Any])?.count == 2)
    }
}
