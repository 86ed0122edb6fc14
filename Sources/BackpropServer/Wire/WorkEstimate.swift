/// The arithmetic a `/forward` or `/gradient` body asks for, read from its shape before
/// anything is built: samples × parameters. It decides whether a request is small
/// enough to run where it arrives (`Configuration.inlineWork`). It never checks
/// anything: a shape it does not recognise gives nil, and the request goes to the
/// compute pool, where the wire layer checks it and answers its problem.
public enum WorkEstimate {
    /// Samples × parameters (over-estimated where the shape leaves a doubt), or nil.
    public static func samplesTimesParameters(_ body: JSONValue) -> Int? {
        guard let network = body["network"], case .array(let layers)? = network["layers"], let input = body["input"]
        else { return nil }
        var fanIn = network["inputs"].flatMap(\.doubleValue).flatMap { Int(exactly: $0) }
        var firstFanIn = fanIn
        var parameters = 0
        for layer in layers {
            let units: Int
            if let weights = layer["weights"] {
                guard let (rows, columns) = shape(weights) else { return nil }
                if parameters == 0 { firstFanIn = rows }
                units = columns
                parameters += Self.parameters(rows: rows, columns: columns)
            } else if let count = layer["units"]?.doubleValue.flatMap({ Int(exactly: $0) }), count > 0, let fanIn {
                units = count
                guard count <= 1 << 24, fanIn <= 1 << 24 else { return nil }
                parameters += Self.parameters(rows: fanIn, columns: units)
            } else {
                return nil
            }
            fanIn = units
        }
        let samples: Int
        switch input {
        case .number, .unsigned: samples = 1
        // One sample of the network's inputs, or else one value per sample.
        case .numbers(let values): samples = values.count == firstFanIn ? 1 : max(values.count, 1)
        case .array(let rows): samples = max(rows.count, 1)
        case .matrix(let columns, let storage): samples = storage.count / columns
        default: return nil
        }
        return samples.multipliedReportingOverflow(by: parameters).overflow ? nil : samples * parameters
    }

    /// The parameters a layer of `rows` inputs and `columns` units is counted for: its
    /// weights and, whether it has them or not, its biases.
    static func parameters(rows: Int, columns: Int) -> Int { rows * columns + columns }

    /// A weights value's rows and columns: a number (1×1), a vector (one unit's weights),
    /// or a matrix (a row per input).
    private static func shape(_ weights: JSONValue) -> (Int, Int)? {
        switch weights {
        case .number, .unsigned: return (1, 1)
        case .numbers(let values): return (values.count, 1)
        case .array(let rows):
            guard case .numbers(let first)? = rows.first else { return nil }
            return (rows.count, first.count)
        case .matrix(let columns, let storage): return (storage.count / columns, columns)
        default: return nil
        }
    }
}
