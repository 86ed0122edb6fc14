import CBackpropKernels
import Dispatch

/// The hot loops over raw row-major buffers. The matrix products are C
/// (`CBackpropKernels`): Swift's SIMD types are scalarised without target flags,
/// and target flags would tie the binary to one CPU, so the C kernel carries an
/// AVX2+FMA path chosen at run time and a portable one. Nothing here allocates.
enum Kernels {
    /// `c = a · b`, or `c += a · b` when `accumulate`; `a` is m×k, `b` is k×n, `c` is m×n.
    /// The C kernel uses AVX2+FMA where the CPU has it (checked at run time).
    ///
    /// With `threads` > 1 a large product's rows are split across threads. Each
    /// element is still summed whole, in the same order, by one thread, so the
    /// result is the same to the bit for any number of threads.
    static func multiply(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, accumulate: Bool = false, threads: Int = 1
    ) {
        // The parts write disjoint rows of c and only read a and b.
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        split(rows: m, work: m * k * n, threads: threads) { first, count in
            bp_gemm(a + first * k, b, c + first * n, count, k, n, accumulate ? 1 : 0)
        }
    }

    /// `c = aᵀ · b`; `a` is k×m, `b` is k×n, `c` is m×n. Threads as in `multiply`.
    static func multiplyTransposingLeft(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, threads: Int = 1
    ) {
        nonisolated(unsafe) let (a, b, c) = (a, b, c)  // disjoint rows of c, as above
        split(rows: m, work: m * k * n, threads: threads) { first, count in
            bp_gemm_tn(a + first, m, b, c + first * n, count, k, n)
        }
    }

    /// Runs `body(first, count)` over `rows` rows in up to `threads` parts of whole
    /// 4-row blocks; one part when the work (multiply-adds) is too small to share.
    @inline(__always)
    private static func split(rows: Int, work: Int, threads: Int, _ body: @Sendable (Int, Int) -> Void) {
        let parts = min(threads, rows / 4)
        guard parts > 1, work >= 1 << 20 else {
            body(0, rows)
            return
        }
        let blocks = (rows + 3) / 4
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let first = blocks * part / parts * 4, end = min(blocks * (part + 1) / parts * 4, rows)
            if end > first { body(first, end - first) }
        }
    }

    /// True when the products run on the AVX2+FMA path.
    static var isVectorized: Bool { bp_kernels_vectorized() != 0 }

    /// `t = aᵀ`; `a` is m×n, `t` is n×m.
    static func transpose(
        _ a: UnsafePointer<Double>, into t: UnsafeMutablePointer<Double>, m: Int, n: Int
    ) {
        for r in 0..<m {
            let row = a + r * n
            for c in 0..<n { t[c * m + r] = row[c] }
        }
    }

    /// Adds `bias` (length n) to every row of the m×n matrix `c`.
    static func addRowVector(
        _ bias: UnsafePointer<Double>, to c: UnsafeMutablePointer<Double>, m: Int, n: Int
    ) {
        for r in 0..<m {
            let row = c + r * n
            for j in 0..<n { row[j] += bias[j] }
        }
    }

    /// `out[j] = scale × Σ_r a[r, j]` over the m×n matrix `a`.
    static func columnSums(
        _ a: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>, m: Int, n: Int,
        scale: Double
    ) {
        out.update(repeating: 0, count: n)
        for r in 0..<m {
            let row = a + r * n
            for j in 0..<n { out[j] += row[j] }
        }
        for j in 0..<n { out[j] *= scale }
    }
}

extension Matrix {
    /// The matrix product `self · other`, as numpy's `np.dot`.
    public func dot(_ other: Matrix) throws(CoreError) -> Matrix {
        guard columns == other.rows else {
            throw CoreError(
                .shapeMismatch,
                "cannot multiply a \(rows)×\(columns) matrix by a \(other.rows)×\(other.columns) matrix")
        }
        var result = Matrix(rows: rows, columns: other.columns)
        if storage.isEmpty || other.storage.isEmpty { return result }
        storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                result.storage.withUnsafeMutableBufferPointer { c in
                    Kernels.multiply(
                        a.baseAddress!, b.baseAddress!, into: c.baseAddress!,
                        m: rows, k: columns, n: other.columns)
                }
            }
        }
        return result
    }
}

/// Which matrix-product kernel this build and CPU use, for benchmarks and logs:
/// "portable", "avx2+fma" (chosen at run time) or "openblas" (the OpenBLAS trait).
public let matrixKernelName: String = ["portable", "avx2+fma", "openblas"][Int(bp_kernels_vectorized())]
