import BackpropCore
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import BackpropServer

/// `EncodingGate`: at most its passes encode at once, waiters get passes in the order
/// they asked, and `JSONStreamWriter` holds a pass only while it encodes.
@Suite struct EncodingGateTests {
    @Test func atMostThePassesAreHeldAndWaitersGoInOrder() async throws {
        let gate = EncodingGate(passes: 2)
        #expect(gate.free == 2)
        await gate.enter()
        await gate.enter()
        #expect(gate.free == 0)
        let order = NIOLockedValueBox<[Int]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<5 {
                group.addTask {
                    await gate.enter()
                    order.withLockedValue { $0.append(index) }
                }
                // Each waiter is queued before the next one asks.
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(order.withLockedValue { $0 }.isEmpty)
            for _ in 0..<5 {
                gate.leave()
                try await Task.sleep(for: .milliseconds(20))
            }
            for try await _ in group {}
        }
        #expect(order.withLockedValue { $0 } == [0, 1, 2, 3, 4])
        // The five hold the two passes that were handed on: none is free until they leave.
        #expect(gate.free == 0)
        for _ in 0..<2 { gate.leave() }
        #expect(gate.free == 2)
        #expect(EncodingGate.forCores(2).free == 1)
        #expect(EncodingGate.forCores(1).free == 1)
        #expect(EncodingGate.forCores(8).free == 7)
    }

    /// Eight streams through a one-pass gate: the texts are whole; alone, a writer
    /// emits without the pass; a failed emit leaves the pass free.
    @Test func streamedWritersGiveThePassBackToWrite() async throws {
        let gate = EncodingGate(passes: 1)
        var generator = SeededGenerator(seed: 41)
        let values: [JSONValue] = (0..<8).map { index in
            let rows = 3 + index
            return .object([
                ("id", .unsigned(UInt64(index))),
                ("weights", .matrix(columns: 40, storage: (0..<(rows * 40)).map { _ in Double(generator.next() % 1_000_000) / 7 })),
            ])
        }
        var pieces = 0
        try await JSONStreamWriter.write(values[7], pretty: false, chunkSize: 256, gate: gate) { _ in
            #expect(gate.free == 1)  // given back before the piece is written
            pieces += 1
        }
        #expect(pieces > 10)
        let texts = try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (index, value) in values.enumerated() {
                group.addTask {
                    var text: [UInt8] = []
                    try await JSONStreamWriter.write(value, pretty: index % 2 == 1, chunkSize: 256, gate: gate) { piece in
                        text += Array(piece.readableBytesView)
                        await Task.yield()
                    }
                    return (index, text)
                }
            }
            var texts: [Int: [UInt8]] = [:]
            for try await (index, text) in group { texts[index] = text }
            return texts
        }
        for (index, value) in values.enumerated() {
            #expect(texts[index] == JSONWriter.encode(value, pretty: index % 2 == 1), "stream \(index)")
        }
        #expect(gate.free == 1)
        struct Gone: Error {}
        await #expect(throws: Gone.self) {
            try await JSONStreamWriter.write(values[7], pretty: false, chunkSize: 256, gate: gate) { _ in throw Gone() }
        }
        #expect(gate.free == 1)
    }
}
