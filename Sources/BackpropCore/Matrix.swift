/// A dense matrix of doubles, stored row-major in one contiguous array.
///
/// A batch of samples is a matrix with one sample per row; a layer's weights are
/// an `inputs × units` matrix, as numpy's `np.dot(x, W)` expects.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    /// Row-major elements: element (r, c) is at `r * columns + c`.
    public internal(set) var storage: [Double]

    /// A matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.rows = rows
        self.columns = columns
        self.storage = Array(repeating: value, count: rows * columns)
    }

    /// A matrix over row-major `storage`; throws if the count is not `rows × columns`.
    public init(rows: Int, columns: Int, storage: [Double]) throws(CoreError) {
        guard rows >= 0, columns >= 0, storage.count == rows * columns else {
            throw CoreError(
                .shapeMismatch,
                "\(storage.count) elements do not make a \(rows)×\(columns) matrix")
        }
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix over storage whose count the caller guarantees.
    init(rows: Int, columns: Int, unchecked storage: [Double]) {
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix from nested rows; throws, naming the row, if they are ragged.
    public init(_ nested: [[Double]]) throws(CoreError) {
        let columns = nested.first?.count ?? 0
        var storage: [Double] = []
        storage.reserveCapacity(nested.count * columns)
        for (index, row) in nested.enumerated() {
            guard row.count == columns else {
                throw CoreError(
                    .shapeMismatch,
                    "row \(index) has \(row.count) elements, but row 0 has \(columns)")
            }
            storage.append(contentsOf: row)
        }
        self.rows = nested.count
        self.columns = columns
        self.storage = storage
    }

    /// A one-row matrix: a single sample.
    public init(row: [Double]) {
        self.rows = 1
        self.columns = row.count
        self.storage = row
    }

    /// A one-column matrix.
    public init(column: [Double]) {
        self.rows = column.count
        self.columns = 1
        self.storage = column
    }

    public subscript(row: Int, column: Int) -> Double {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// Element `index` in row-major order.
    public subscript(element index: Int) -> Double {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    /// Row `index` as an array.
    public func row(_ index: Int) -> [Double] {
        Array(storage[index * columns..<(index + 1) * columns])
    }

    /// The rows as nested arrays.
    public var nested: [[Double]] {
        (0..<rows).map(row)
    }

    /// True when no element is NaN or infinite.
    public var isFinite: Bool {
        storage.allFinite
    }

    /// The transpose.
    public var transposed: Matrix {
        var result = Matrix(rows: columns, columns: rows)
        storage.withUnsafeBufferPointer { source in
            result.storage.withUnsafeMutableBufferPointer { target in
                for r in 0..<rows {
                    for c in 0..<columns {
                        target[c * rows + r] = source[r * columns + c]
                    }
                }
            }
        }
        return result
    }
}

extension Array where Element == Double {
    /// True when no element is NaN or infinite.
    var allFinite: Bool {
        withUnsafeBufferPointer(\.allFinite)
    }
}

extension UnsafeBufferPointer where Element == Double {
    /// True when no element is NaN or infinite.
    package var allFinite: Bool {
        // A sum of x*0 is NaN exactly when some x is NaN or infinite. Four
        // independent sums, so the additions need not wait on each other.
        var (p0, p1, p2, p3) = (0.0, 0.0, 0.0, 0.0)
        let whole = count & ~3
        var i = 0
        while i < whole {
            p0 += self[i] * 0
            p1 += self[i + 1] * 0
            p2 += self[i + 2] * 0
            p3 += self[i + 3] * 0
            i += 4
        }
        while i < count {
            p0 += self[i] * 0
            i += 1
        }
        return p0 + p1 + p2 + p3 == 0
    }
}
