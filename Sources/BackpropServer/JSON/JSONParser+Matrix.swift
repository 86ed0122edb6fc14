extension JSONParser {
    /// At an array's first row: rows of numbers, all of one length ≥ 1, read straight
    /// into one row-major `[Double]` (no array per row, no copy to flatten them).
    /// Anything else (a ragged or empty row, a value that is not a number, or a syntax
    /// fault between values) rewinds to the array's start, and `parseArray` reads it
    /// the general way, which also reports any fault as it would have.
    mutating func parseMatrix() throws(JSONSyntaxError) -> JSONValue? {
        let start = index, first = scratch.count
        var columns = 0, rows = 0
        func rewind(_ parser: inout JSONParser) -> JSONValue? {
            parser.index = start
            parser.scratch.removeSubrange(first...)
            return nil
        }
        while true {
            guard current == UInt8(ascii: "[") else { return rewind(&self) }
            try enter()
            index += 1
            var count = 0
            while true {
                skipWhitespace()
                guard let byte = current, byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                else { depth -= 1; return rewind(&self) }
                guard let number = try parseNumber().doubleValue else { depth -= 1; return rewind(&self) }
                scratch.append(number)
                count += 1
                skipWhitespace()
                if current == UInt8(ascii: ",") { index += 1; continue }
                if current == UInt8(ascii: "]") { index += 1; break }
                depth -= 1
                return rewind(&self)
            }
            depth -= 1
            if rows == 0 { columns = count } else if count != columns { return rewind(&self) }
            rows += 1
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                index += 1
                return .matrix(columns: columns, storage: Array(scratch[first...]))
            default: return rewind(&self)
            }
        }
    }
}
