/// The hot loops: matrix products over raw row-major buffers.
///
/// Each product walks its output row by row with the innermost loop running over
/// contiguous memory, so the compiler vectorises it; four rows of the left operand
/// share each load of the right operand. Nothing here allocates.
enum Kernels {
    /// `c = a · b`, or `c += a · b` when `accumulate`; `a` is m×k, `b` is k×n, `c` is m×n.
    static func multiply(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int, accumulate: Bool = false
    ) {
        if !accumulate { c.update(repeating: 0, count: m * n) }
        var i = 0
        while i + 4 <= m {
            let c0 = c + i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n
            let a0 = a + i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k
            for p in 0..<k {
                let s0 = a0[p], s1 = a1[p], s2 = a2[p], s3 = a3[p]
                let row = b + p * n
                for j in 0..<n {
                    let value = row[j]
                    c0[j] += s0 * value
                    c1[j] += s1 * value
                    c2[j] += s2 * value
                    c3[j] += s3 * value
                }
            }
            i += 4
        }
        while i < m {
            let ci = c + i * n, ai = a + i * k
            for p in 0..<k {
                let s = ai[p]
                let row = b + p * n
                for j in 0..<n { ci[j] += s * row[j] }
            }
            i += 1
        }
    }

    /// `c = aᵀ · b`; `a` is k×m, `b` is k×n, `c` is m×n.
    static func multiplyTransposingLeft(
        _ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
        m: Int, k: Int, n: Int
    ) {
        c.update(repeating: 0, count: m * n)
        for p in 0..<k {
            let left = a + p * m
            let row = b + p * n
            var i = 0
            while i + 4 <= m {
                let s0 = left[i], s1 = left[i + 1], s2 = left[i + 2], s3 = left[i + 3]
                let c0 = c + i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n
                for j in 0..<n {
                    let value = row[j]
                    c0[j] += s0 * value
                    c1[j] += s1 * value
                    c2[j] += s2 * value
                    c3[j] += s3 * value
                }
                i += 4
            }
            while i < m {
                let s = left[i]
                let ci = c + i * n
                for j in 0..<n { ci[j] += s * row[j] }
                i += 1
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
