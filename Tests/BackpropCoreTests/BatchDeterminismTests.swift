import CBackpropKernels
import Testing

@testable import BackpropCore

/// Dynamic batching's premise: a row of a matrix product, and a sample of a forward
/// pass, come out with the same bits whatever the number of rows around it and its
/// place among them, on every kernel path and through every size threshold (the
/// remainder rows of a register block, the AVX-512 path's switch to the unpacked
/// AVX2 one for tiny products, the k-blocking at 256).
@Suite struct BatchDeterminismTests {
    /// Batch sizes around every block edge (4, 6, 8 rows), the tiny-product threshold, and large.
    static let sizes = Array(1...20) + [23, 24, 25, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 129]
    /// Where a window of rows starts in the pool of samples: every position mod 8, and more.
    static let starts = [0, 1, 2, 3, 5, 7, 11]

    static func random(_ count: Int, _ generator: inout SeededGenerator) -> [Double] {
        (0..<count).map { _ in generator.nextUnit() * 2 - 1 }
    }

    @Test(arguments: [BP_PATH_PORTABLE, BP_PATH_AVX2, BP_PATH_AVX512])
    func everyRowOfAProductIsTheRowAlone(path: Int) {
        var generator = SeededGenerator(seed: 41)
        // (k, n): the 784-128-10 network's two products, shapes off every block multiple, k past 256.
        for (k, n) in [(784, 128), (128, 10), (3, 2), (2, 1), (13, 17), (300, 37), (5, 16)] {
            let pool = Self.sizes.last! + Self.starts.last!
            let a = Self.random(pool * k, &generator), b = Self.random(k * n, &generator)
            // Each row alone (m = 1).
            let alone: [[Double]] = (0..<pool).map { row in
                var c = [Double](repeating: .nan, count: n)
                a.withUnsafeBufferPointer { a in
                    _ = bp_gemm_strided_on(Int32(path), a.baseAddress! + row * k, k, 1, b, n, &c, n, 1, k, n, 0)
                }
                return c
            }
            for m in Self.sizes {
                for start in Self.starts {
                    var c = [Double](repeating: .nan, count: m * n)
                    a.withUnsafeBufferPointer { a in
                        _ = bp_gemm_strided_on(Int32(path), a.baseAddress! + start * k, k, 1, b, n, &c, n, m, k, n, 0)
                    }
                    let differing = (0..<m).filter { row in
                        !zip(c[(row * n)..<((row + 1) * n)], alone[start + row]).allSatisfy {
                            $0.bitPattern == $1.bitPattern
                        }
                    }
                    #expect(differing.isEmpty, "path \(path), \(m)×\(k)×\(n) from row \(start): rows \(differing)")
                }
            }
        }
    }

    /// The whole forward pass, as the batcher runs it: a 784-128-10 network (ReLU,
    /// softmax) and a small sigmoid one, each sample alone against every batch size
    /// and position, on the path this process uses.
    @Test func everySampleOfAForwardPassIsTheSampleAlone() throws {
        var generator = SeededGenerator(seed: 42)
        let networks = [
            try Network(layers: [
                Layer(
                    weights: try Matrix(rows: 784, columns: 128, storage: Self.random(784 * 128, &generator).map { $0 * 0.1 }),
                    biases: Self.random(128, &generator), activation: .relu),
                Layer(
                    weights: try Matrix(rows: 128, columns: 10, storage: Self.random(1280, &generator)),
                    biases: Self.random(10, &generator), activation: .softmax),
            ]),
            try Network(layers: [
                Layer(weights: try Matrix(rows: 3, columns: 5, storage: Self.random(15, &generator)), activation: .sigmoid),
                Layer(weights: try Matrix(rows: 5, columns: 1, storage: Self.random(5, &generator)), activation: .tanh),
            ]),
        ]
        for network in networks {
            let pool = Self.sizes.last! + Self.starts.last!
            let samples = try Matrix(
                rows: pool, columns: network.inputs, storage: Self.random(pool * network.inputs, &generator))
            let alone = try (0..<pool).map { try network.predict(Matrix(row: samples.row($0))).storage }
            for m in Self.sizes {
                for start in [0, 3, 8] {
                    let window = try Matrix(
                        rows: m, columns: network.inputs,
                        storage: Array(samples.storage[(start * network.inputs)..<((start + m) * network.inputs)]))
                    let output = try network.predict(window)
                    let width = output.columns
                    for row in 0..<m {
                        let bits = output.storage[(row * width)..<((row + 1) * width)].map(\.bitPattern)
                        #expect(bits == alone[start + row].map(\.bitPattern), "\(m) samples from \(start), row \(row)")
                    }
                }
            }
        }
    }
}
