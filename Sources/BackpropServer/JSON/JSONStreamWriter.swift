import NIOCore

/// Writes a JSON value as `JSONWriter.encode` does, byte for byte, but in pieces of
/// about `chunkSize` bytes handed to `emit` as they fill: a large answer is written
/// as it is produced, at the pace its client reads (`emit` waits for the channel),
/// instead of being encoded whole first. Leaves and slices of number arrays go
/// through `JSONWriter`; only the structure (brackets, commas, indentation) is here.
struct JSONStreamWriter {
    let pretty: Bool
    let chunkSize: Int
    /// Held while a piece is encoded, given back while it is written (`EncodingGate`).
    let gate: EncodingGate?
    private var buffer: ByteBuffer

    private init(pretty: Bool, chunkSize: Int, gate: EncodingGate?) {
        self.pretty = pretty
        self.chunkSize = max(chunkSize, 64)
        self.gate = gate
        buffer = ByteBufferAllocator().buffer(capacity: self.chunkSize + 64)
    }

    /// Writes `value` (with `prefix` before it and `suffix` after, as raw bytes) in pieces to `emit`.
    /// With a `gate`, each piece is encoded holding one of its passes, and written without.
    static func write(
        _ value: JSONValue, pretty: Bool, chunkSize: Int, gate: EncodingGate? = nil, prefix: String = "",
        suffix: String = "", emit: (ByteBuffer) async throws -> Void
    ) async throws {
        var writer = JSONStreamWriter(pretty: pretty, chunkSize: chunkSize, gate: gate)
        await gate?.enter()
        writer.buffer.writeString(prefix)
        // Only `emit` throws, and it is called without the pass.
        try await writer.write(value, indent: 0, emit)
        if pretty { writer.buffer.writeInteger(UInt8(ascii: "\n")) }
        writer.buffer.writeString(suffix)
        gate?.leave()
        if writer.buffer.readableBytes > 0 { try await emit(writer.buffer) }
    }

    private mutating func flushIfFull(_ emit: (ByteBuffer) async throws -> Void) async throws {
        guard buffer.readableBytes >= chunkSize else { return }
        let full = buffer
        buffer = ByteBufferAllocator().buffer(capacity: chunkSize + 64)
        gate?.leave()
        try await emit(full)
        await gate?.enter()
    }

    private mutating func write(
        _ value: JSONValue, indent: Int, _ emit: (ByteBuffer) async throws -> Void
    ) async throws {
        switch value {
        case .null, .bool, .number, .unsigned, .string:
            JSONWriter.encode(value, pretty: false, into: &buffer)
        case .numbers(let numbers):
            try await write(numbers[...], emit)
        case .matrix(let columns, let storage):
            byte("[")
            for (i, start) in stride(from: 0, to: storage.count, by: columns).enumerated() {
                if i > 0 { byte(",") }
                newline(indent + 1)
                try await write(storage[start..<(start + columns)], emit)
                try await flushIfFull(emit)
            }
            newline(indent)
            byte("]")
        case .array(let values):
            byte("[")
            for (i, element) in values.enumerated() {
                if i > 0 { byte(",") }
                newline(indent + 1)
                try await write(element, indent: indent + 1, emit)
                try await flushIfFull(emit)
            }
            if !values.isEmpty { newline(indent) }
            byte("]")
        case .object(let fields):
            byte("{")
            for (i, field) in fields.enumerated() {
                if i > 0 { byte(",") }
                newline(indent + 1)
                JSONWriter.encode(.string(field.key), pretty: false, into: &buffer)
                byte(":")
                if pretty { byte(" ") }
                try await write(field.value, indent: indent + 1, emit)
                try await flushIfFull(emit)
            }
            if !fields.isEmpty { newline(indent) }
            byte("}")
        }
    }

    /// An array of numbers on one line, as `JSONWriter` writes it, a slice at a time.
    private mutating func write(_ numbers: ArraySlice<Double>, _ emit: (ByteBuffer) async throws -> Void) async throws {
        let slice = max(chunkSize / 26, 1)  // at most 26 bytes a number with its separator
        byte("[")
        var start = numbers.startIndex
        while start < numbers.endIndex {
            let end = min(start + slice, numbers.endIndex)
            if start > numbers.startIndex { buffer.writeString(pretty ? ", " : ",") }
            // "[a,b,c]" (a document: pretty adds a final newline): the numbers without the brackets.
            let text = JSONWriter.encode(.numbers(Array(numbers[start..<end])), pretty: pretty)
            buffer.writeBytes(text[1..<(text.count - (pretty ? 2 : 1))])
            start = end
            try await flushIfFull(emit)
        }
        byte("]")
    }

    private mutating func byte(_ character: Unicode.Scalar) {
        buffer.writeInteger(UInt8(ascii: character))
    }

    private mutating func newline(_ indent: Int) {
        guard pretty else { return }
        buffer.writeInteger(UInt8(ascii: "\n"))
        buffer.writeRepeatingByte(UInt8(ascii: " "), count: indent * 2)
    }
}

extension JSONValue {
    /// About the bytes this value takes in memory (arrays of numbers 8 bytes each,
    /// plus each node's storage): what holding it costs the memory budget.
    var memoryFootprint: Int {
        switch self {
        case .null, .bool, .number, .unsigned: 0
        case .string(let string): string.utf8.count > 15 ? 32 + string.utf8.count : 0
        case .numbers(let numbers), .matrix(_, let numbers): 32 + numbers.count * 8
        case .array(let values):
            values.reduce(32 + values.count * MemoryLayout<JSONValue>.stride) { $0 + $1.memoryFootprint }
        case .object(let fields):
            fields.reduce(32 + fields.count * MemoryLayout<(key: String, value: JSONValue)>.stride) {
                $0 + $1.value.memoryFootprint + ($1.key.utf8.count > 15 ? 32 + $1.key.utf8.count : 0)
            }
        }
    }
}
