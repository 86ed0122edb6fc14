import CBackpropKernels
import Dispatch

/// The hot loops over raw row-major buffers. The matrix products are C
/// (`CBackpropKernels`): Swift's SIMD types are scalarised without target flags,
/// and target flags would tie the binary to one CPU, so the C kernel carries
/// AVX-512 and AVX2+FMA paths chosen at run time and a portable one. Nothing here
/// allocates.
enum Kernels {
    /// `c = a · b`, or `c += a · b` when `accumulate`; `a` is m×k, `b` is k×n, `c` is m×n.
    ///
    /// With `threads` > 1 a large product's columns (or, when it is narrow, its rows)
    /// are split across threads. Each element is still summed whole, in the same
    /// order, by one thread, so the result is the same to the bit for any number of
    /// threads.
    static func multiply(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, accumulate: Bool = false, threads: Int = 1
    ) {
        product(a, row: k, column: 1, b, into: c, m: m, k: k, n: n, accumulate: accumulate, threads: threads)
    }

    /// `c = aᵀ · b`; `a` is k×m, `b` is k×n, `c` is m×n. Threads as in `multiply`.
    static func multiplyTransposingLeft(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, threads: Int = 1
    ) {
        product(a, row: 1, column: m, b, into: c, m: m, k: k, n: n, accumulate: false, threads: threads)
    }

    /// Products of fewer multiply-adds than this run on the calling thread alone.
    ///
    /// Sharing a product costs a wake-up of a worker and a wait for it. On a 2-vCPU KVM
    /// guest (BENCHMARKS.md, issue 15) that cost outweighed half of a 64×784×128 product
    /// (6.4 M multiply-adds, ~90 µs alone): the 784-128-10 epoch took 0.137 s on one
    /// thread and 0.170 s on two, while the 784-1024-10 epoch's 103 M products gained
    /// from two (1.2–1.5 s → 0.91–0.96 s).
    static let splitThreshold = 1 << 24

    /// Products whose c holds at least this many elements (2 MiB, a core's L2 on the
    /// machine BENCHMARKS.md names) are split by rows when they have rows to split.
    ///
    /// Split by columns, each thread walks every row of a large c, a few cache lines at
    /// a time; split by rows, it owns one contiguous part. The 784-1024-10 network's
    /// weight gradient (aᵀ·δ, 784×128 · 128×1024, c 6.4 MB) took 2.6 ms a batch in the
    /// epoch split by rows and 2.9–3.1 ms by columns. Its forward product (c 1 MB) stays
    /// by columns: split by rows, each thread would pack all of its 6.4 MB b.
    static let rowSplitElements = 1 << 18

    /// `c (+)= A · b` with `A[i][p] = a[i·row + p·column]`, split into up to `threads`
    /// parts: blocks of 16 columns (the AVX-512 kernel's width) when c is at least
    /// 32 wide and holds fewer than `rowSplitElements`, else blocks of 8 rows; one part
    /// when the work (multiply-adds) is under `splitThreshold`.
    private static func product(
        _ a: UnsafePointer<Double>, row: Int, column: Int, _ b: UnsafePointer<Double>,
        into c: UnsafeMutablePointer<Double>, m: Int, k: Int, n: Int, accumulate: Bool, threads: Int
    ) {
        let byColumns = n >= 32 && (m * n < Self.rowSplitElements || m < 16 * threads)
        let blocks = byColumns ? (n + 15) / 16 : (m + 7) / 8
        let parts = min(threads, blocks)
        guard parts > 1, m * k * n >= Self.splitThreshold else {
            bp_gemm_strided(a, row, column, b, n, c, n, m, k, n, accumulate ? 1 : 0)
            return
        }
        // The parts write disjoint parts of c and only read a and b.
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let first = blocks * part / parts, end = blocks * (part + 1) / parts
            if byColumns {
                let j = first * 16, width = min(end * 16, n) - j
                bp_gemm_strided(a, row, column, b + j, n, c + j, n, m, k, width, accumulate ? 1 : 0)
            } else {
                let i = first * 8, height = min(end * 8, m) - i
                bp_gemm_strided(a + i * row, row, column, b, n, c + i * n, n, height, k, n, accumulate ? 1 : 0)
            }
        }
    }

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
/// "portable", "avx2+fma" or "avx-512" (chosen at run time), or "openblas" (the OpenBLAS trait).
public let matrixKernelName: String = ["portable", "avx2+fma", "openblas", "avx-512"][Int(bp_kernels_vectorized())]
