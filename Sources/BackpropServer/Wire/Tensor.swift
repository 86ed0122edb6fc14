import BackpropCore

/// Numbers as they stand on the wire: a number, a vector or a matrix.
enum Tensor {
    case scalar(Double)
    case vector([Double])
    case matrix(Matrix)

    enum Kind { case scalar, vector, matrix }

    /// Whether numbers of `kind`, `rows` × `columns` as written (a vector is one row), are
    /// one target per sample for `samples` samples of an output `units` wide, where
    /// `batch` says the input was a matrix. Where the output per sample is one number, a
    /// number per sample or a 1-element vector per sample both are.
    static func isTarget(_ kind: Kind, rows: Int, columns: Int, batch: Bool, samples: Int, units: Int) -> Bool {
        switch (kind, batch) {
        case (.scalar, false): units == 1
        case (.vector, false): columns == units
        case (.vector, true): units == 1 && columns == samples
        case (.matrix, true): rows == samples && columns == units
        default: false
        }
    }
}

extension Node {
    /// A number, an array of numbers, or an array of equally long arrays of numbers.
    /// Every number must be finite; a ragged matrix is a 422 naming the row.
    func tensor() throws(Problem) -> Tensor {
        switch value {
        case .number, .unsigned:
            return .scalar(try double())
        case .numbers(let numbers):
            try checkFinite(numbers, at: pointer)
            return .vector(numbers)
        case .matrix(let columns, let storage):
            // Read as one buffer: the matrix the computation takes, no copy.
            if let index = storage.firstIndex(where: { !$0.isFinite }) {
                let at = pointer.appending(index / columns).appending(index % columns)
                throw Problem.unprocessable("Number out of range", "\(at.readable) is beyond the range of a double", at: at)
            }
            do {
                return .matrix(try Matrix(rows: storage.count / columns, columns: columns, storage: storage))
            } catch {
                throw Problem(error, at: pointer)
            }
        case .array(let rows):
            let columns = rows.first.flatMap { row -> Int? in
                if case .numbers(let numbers) = row { numbers.count } else { nil }
            } ?? 0
            var storage: [Double] = []
            storage.reserveCapacity(rows.count * columns)
            for (index, row) in rows.enumerated() {
                let rowPointer = pointer.appending(index)
                guard case .numbers(let numbers) = row else {
                    if row.doubleValue != nil {
                        throw Problem.badShape(
                            "\(pointer.readable) mixes numbers and arrays: it must be an array of numbers or an array of arrays of numbers",
                            at: rowPointer)
                    }
                    throw Node(row, at: rowPointer).typeError("an array of numbers")
                }
                guard numbers.count == columns else {
                    throw Problem.unprocessable(
                        "Ragged matrix",
                        "\(rowPointer.readable) has \(numbers.count) numbers, but row 0 has \(columns)",
                        at: rowPointer)
                }
                try checkFinite(numbers, at: rowPointer)
                storage.append(contentsOf: numbers)
            }
            do {
                return .matrix(try Matrix(rows: rows.count, columns: columns, storage: storage))
            } catch {
                throw Problem(error, at: pointer)
            }
        default:
            throw typeError("a number, an array of numbers or an array of arrays of numbers")
        }
    }

    private func checkFinite(_ numbers: [Double], at pointer: JSONPointer) throws(Problem) {
        if let index = numbers.firstIndex(where: { !$0.isFinite }) {
            throw Problem.unprocessable(
                "Number out of range", "\(pointer.appending(index).readable) is beyond the range of a double",
                at: pointer.appending(index))
        }
    }

    /// Samples: a vector is one sample, a matrix one sample per row.
    /// With `columnForOneInput`, a vector given to a one-input network is one
    /// sample per number (as /train's data sets are read).
    func samples(inputs: Int, columnForOneInput: Bool = false) throws(Problem) -> (matrix: Matrix, batch: Bool) {
        switch try tensor() {
        case .scalar: throw typeError("an array of numbers (one sample) or an array of arrays (a batch)")
        case .vector(let values):
            if columnForOneInput, inputs == 1 { return (Matrix(column: values), true) }
            return (Matrix(row: values), false)
        case .matrix(let matrix): return (matrix, true)
        }
    }

    /// Targets for `samples` samples of an output `units` wide, in the shapes
    /// `Tensor.isTarget` accepts.
    func targets(samples: Int, batch: Bool, units: Int) throws(Problem) -> Matrix {
        switch try tensor() {
        case .scalar(let value) where Tensor.isTarget(.scalar, rows: 1, columns: 1, batch: batch, samples: samples, units: units):
            return Matrix(row: [value])
        case .vector(let values)
        where Tensor.isTarget(.vector, rows: 1, columns: values.count, batch: batch, samples: samples, units: units):
            return batch ? Matrix(column: values) : Matrix(row: values)
        case .matrix(let matrix)
        where Tensor.isTarget(.matrix, rows: matrix.rows, columns: matrix.columns, batch: batch, samples: samples, units: units):
            return matrix
        default: break
        }
        let expected: String
        switch (batch, units == 1) {
        case (false, true): expected = "a number (or a 1-element array)"
        case (false, false): expected = "an array of \(units) numbers"
        case (true, true): expected = "an array of \(samples) numbers (or \(samples) 1-element arrays)"
        case (true, false): expected = "\(samples) arrays of \(units) numbers"
        }
        throw invalid("Shape mismatch", "must be \(expected), one target per sample for the network's output")
    }
}

extension Matrix {
    /// Per-sample values in the request's shapes: a batch adds a leading dimension,
    /// and a one-unit layer in shorthand gives a number per sample.
    func perSample(batch: Bool, scalar: Bool) -> JSONValue {
        switch (batch, scalar) {
        case (false, true): .number(storage[0])
        case (false, false): .numbers(storage)
        case (true, true): .numbers(storage)
        case (true, false): rowsJSON
        }
    }

    /// One array of numbers per row, kept as one buffer (`JSONValue.matrix`) when the
    /// matrix has rows and columns.
    var rowsJSON: JSONValue {
        rows > 0 && columns > 0
            ? .matrix(columns: columns, storage: storage) : .array((0..<rows).map { .numbers(row($0)) })
    }

    /// A weight matrix in its wire form: a flat vector for a one-unit layer in shorthand.
    func weightsJSON(scalar: Bool) -> JSONValue {
        scalar ? .numbers(storage) : rowsJSON
    }

    /// Every element multiplied by `factor`.
    func scaled(by factor: Double) -> Matrix {
        var result = self
        for i in 0..<storage.count { result[element: i] = factor * storage[i] }
        return result
    }
}

extension JSONValue {
    /// This value read as a request's sample matrix is read (a vector is one row),
    /// with the same checks and errors. For benchmarks and library users.
    public func sampleMatrix() throws(Problem) -> Matrix {
        let (matrix, _) = try Node(self).samples(inputs: 0)
        return matrix
    }

    /// A matrix as a response carries it: one array of numbers per row.
    public init(rows matrix: Matrix) {
        self = matrix.perSample(batch: true, scalar: false)
    }
}
