import CBackpropKernels
import Testing

@testable import BackpropCore

/// The matrix-product kernels: every path against a plain fused multiply-add loop,
/// on shapes that exercise the register blocks' edges and the k-blocking.
@Suite struct KernelTests {
    /// (m, k, n): the MLP's products, sizes off every block multiple, k past one 256-block.
    static let shapes = [
        (64, 784, 128), (784, 64, 128), (64, 128, 10), (128, 64, 10), (1, 1, 1), (3, 5, 7),
        (9, 513, 17), (13, 300, 37), (8, 256, 16), (17, 1000, 31), (100, 257, 33), (7, 0, 5),
    ]

    /// c (+)= A·b one element at a time: a chain of fused multiply-adds in p order.
    static func reference(
        _ a: [Double], row: Int, column: Int, _ b: [Double], ldb: Int, _ c: inout [Double], ldc: Int,
        m: Int, k: Int, n: Int, accumulate: Bool
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var sum = accumulate ? c[i * ldc + j] : 0
                for p in 0..<k { sum = sum.addingProduct(a[i * row + p * column], b[p * ldb + j]) }
                c[i * ldc + j] = sum
            }
        }
    }

    @Test(arguments: [BP_PATH_PORTABLE, BP_PATH_AVX2, BP_PATH_AVX512])
    func pathMatchesFusedReference(path: Int) {
        var generator = SeededGenerator(seed: 11)
        var available = 0
        for (m, k, n) in Self.shapes {
            for transposed in [false, true] {
                for accumulate in [false, true] {
                    // Padded leading dimensions: the kernels must honour them and leave the padding.
                    let ldb = n + 3, ldc = n + 5
                    let a = (0..<max(m * k, 1)).map { _ in generator.nextUnit() - 0.5 }
                    let b = (0..<max(k * ldb, 1)).map { _ in generator.nextUnit() - 0.5 }
                    let start = (0..<m * ldc).map { _ in generator.nextUnit() - 0.5 }
                    let (row, column) = transposed ? (1, m) : (k, 1)
                    var expected = start, actual = start
                    Self.reference(
                        a, row: row, column: column, b, ldb: ldb, &expected, ldc: ldc, m: m, k: k, n: n,
                        accumulate: accumulate)
                    available = Int(
                        bp_gemm_strided_on(
                            Int32(path), a, row, column, b, ldb, &actual, ldc, m, k, n, accumulate ? 1 : 0))
                    if available == BP_PATH_PORTABLE || available == BP_PATH_OPENBLAS {
                        // No fused multiply-add chain: the same sums, rounded differently.
                        for (x, y) in zip(actual, expected) { #expect(abs(x - y) <= 1e-12 * max(1, abs(y))) }
                    } else {
                        let differing = zip(actual, expected).filter { $0.bitPattern != $1.bitPattern }.count
                        #expect(differing == 0, "path \(available), \(m)×\(k)×\(n), transposed \(transposed)")
                    }
                }
            }
        }
        // The path asked for runs unless the CPU lacks it (then the next narrower one does).
        // (The OpenBLAS trait sends every path to dgemm.)
        if available != BP_PATH_OPENBLAS {
            #expect(available <= path)
            if path == BP_PATH_PORTABLE { #expect(available == BP_PATH_PORTABLE) }
        }
    }

    /// Splitting a product's columns or rows across threads leaves every bit as it was.
    @Test func threadSplitsAreBitIdentical() {
        var generator = SeededGenerator(seed: 12)
        // Columns split (n ≥ 32, c small), rows split (n < 32, or c of at least
        // rowSplitElements), each past the size that is split.
        for (m, k, n) in [(128, 784, 1024), (784, 256, 128), (3000, 300, 20), (784, 128, 1024)] {
            #expect(m * k * n >= Kernels.splitThreshold)
            let a = (0..<m * k).map { _ in generator.nextUnit() - 0.5 }
            let b = (0..<k * n).map { _ in generator.nextUnit() - 0.5 }
            let products = [1, 2, 3].map { threads in
                var c = [Double](repeating: .nan, count: m * n)
                Kernels.multiply(a, b, into: &c, m: m, k: k, n: n, threads: threads)
                return c
            }
            #expect(products[0] == products[1])
            #expect(products[0] == products[2])
            #expect(!products[0].contains { $0.isNaN })
        }
        #expect(784 * 1024 >= Kernels.rowSplitElements && 128 * 1024 < Kernels.rowSplitElements)
    }
}
