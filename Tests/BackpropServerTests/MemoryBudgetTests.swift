import BackpropCore
import BackpropTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import BackpropServer

/// The memory budget's accounting, on its own.
@Suite struct MemoryBudgetTests {
    static let mib = 1 << 20

    @Test func smallReservationsUseTheReserveWhenLargeOnesFillTheRest() async {
        let budget = MemoryBudget(total: 64 * Self.mib)  // reserve: 4 MiB (a sixteenth)
        #expect(budget.smallReserve == 4 * Self.mib)
        let large = MemoryReservation(budget: budget, kind: .bodies)
        #expect(await large.acquire(60 * Self.mib, until: .now + .seconds(5)))
        #expect(budget.isExhausted)
        // Another large one finds no room and gives up at its deadline.
        let refused = MemoryReservation(budget: budget, kind: .bodies)
        let start = ContinuousClock.now
        #expect(await refused.acquire(Self.mib, until: .now + .milliseconds(200)) == false)
        #expect(ContinuousClock.now - start >= .milliseconds(150))
        #expect(refused.bytes == 0)
        // A small one is served from the reserve at once.
        let small = MemoryReservation(budget: budget, kind: .bodies)
        #expect(await small.acquire(100_000, until: .now))
        #expect(budget.heldInReserve == 100_000)
        #expect(budget.held(.bodies) == 60 * Self.mib + 100_000)
        small.release()
        large.release()
        #expect(budget.held() == 0)
        #expect(budget.heldInReserve == 0)
    }

    @Test func largeReservationsWaitInOrderUntilRoomFrees() async throws {
        let budget = MemoryBudget(total: 64 * Self.mib)
        let first = MemoryReservation(budget: budget, kind: .bodies)
        #expect(await first.acquire(50 * Self.mib, until: .now))
        let order = OrderLog()
        let second = MemoryReservation(budget: budget, kind: .bodies)
        let third = MemoryReservation(budget: budget, kind: .bodies)
        async let a: Bool = { let ok = await second.acquire(30 * Self.mib, until: .now + .seconds(10)); await order.add("second"); return ok }()
        try await Task.sleep(for: .milliseconds(50))
        async let b: Bool = { let ok = await third.acquire(5 * Self.mib, until: .now + .seconds(10)); await order.add("third"); return ok }()
        try await Task.sleep(for: .milliseconds(100))
        // The third would fit now, but it does not jump ahead of the second.
        #expect(await order.entries.isEmpty)
        first.release()
        #expect(await a)
        #expect(await b)
        // Both are granted in one step as the room frees (second first in the queue); the
        // order their tasks then resume in, and log, is the scheduler's.
        #expect(await Set(order.entries) == ["second", "third"])
        #expect(await order.entries.count == 2)
        #expect(budget.held(.bodies) == 35 * Self.mib)
    }

    @Test func answersTakeRoomOnlyIfItFitsAndChargesAreNeverRefused() async {
        let budget = MemoryBudget(total: 64 * Self.mib)
        let request = MemoryReservation(budget: budget, kind: .bodies)
        #expect(await request.acquire(1000, until: .now))
        #expect(request.resizeIfFits(to: 40 * Self.mib, as: .answers))
        #expect(budget.held(.answers) == 40 * Self.mib && budget.held(.bodies) == 0)
        let other = MemoryReservation(budget: budget, kind: .bodies)
        #expect(other.resizeIfFits(to: 40 * Self.mib, as: .answers) == false)
        #expect(budget.held(.answers) == 40 * Self.mib)
        budget.charge(100 * Self.mib, kind: .results)
        #expect(budget.held() == 140 * Self.mib)
        budget.discharge(100 * Self.mib, kind: .results)
        request.release()
        #expect(budget.held() == 0)
    }

    @Test func defaultIsThreeQuartersOfTheLimitOrOfPhysicalMemory() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("bp-cgroup-\(getpid())")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("app"), withIntermediateDirectories: true)
        let cgroup = root.appendingPathComponent("cgroup")
        try "0::/app\n".write(to: cgroup, atomically: true, encoding: .utf8)
        try "536870912\n".write(to: root.appendingPathComponent("app/memory.max"), atomically: true, encoding: .utf8)
        #expect(MemoryBudget.containerLimit(root: root.path, cgroupFile: cgroup.path)?.0 == 536_870_912)
        try "max\n".write(to: root.appendingPathComponent("app/memory.max"), atomically: true, encoding: .utf8)
        #expect(MemoryBudget.containerLimit(root: root.path, cgroupFile: cgroup.path) == nil)
        let (bytes, _) = MemoryBudget.defaultTotal()
        let physical = Int(ProcessInfo.processInfo.physicalMemory)
        #expect(bytes > 0 && bytes <= physical / 4 * 3)
    }

    @Test func aStalledStreamEndsWithARetryHintAtTheCap() async {
        let (stream, continuation) = CappedEventStream.make()
        var accepted = 0
        for id in 1...(CappedEventStream.cap + 10) {
            guard continuation.yield(JobEvent(id: id, kind: .progress, data: .null)) else { break }
            accepted += 1
        }
        #expect(accepted == CappedEventStream.cap - 1)
        var items: [JobStreamItem] = []
        for await item in stream { items.append(item) }
        #expect(items.count == CappedEventStream.cap + 1)
        #expect(items.last == .retry(milliseconds: CappedEventStream.retryMilliseconds))
        #expect(items.dropLast().map { if case .event(let e) = $0 { e.id } else { -1 } } == Array(1...CappedEventStream.cap))
    }
}

actor OrderLog {
    var entries: [String] = []
    func add(_ entry: String) { entries.append(entry) }
}

/// Streamed JSON is the same text as JSON written whole.
@Suite struct JSONStreamWriterTests {
    static func randomValue(_ generator: inout SeededGenerator, depth: Int = 0) -> JSONValue {
        let pick = depth > 3 ? Int(generator.next() % 5) : Int(generator.next() % 9)
        switch pick {
        case 0: return .null
        case 1: return .bool(generator.next() % 2 == 0)
        case 2: return .number(generator.nextNormal() * 1e3)
        case 3: return .unsigned(generator.next())
        case 4: return .string(["a", "quote \" and \\ and \n", "ünï", ""][Int(generator.next() % 4)])
        case 5: return .numbers((0..<Int(generator.next() % 3000)).map { _ in generator.nextNormal() })
        case 6: return .array((0..<Int(generator.next() % 6)).map { _ in randomValue(&generator, depth: depth + 1) })
        case 7:
            let columns = 1 + Int(generator.next() % 40), rows = 1 + Int(generator.next() % 60)
            return .matrix(columns: columns, storage: (0..<(rows * columns)).map { _ in generator.nextNormal() })
        default:
            return .object((0..<Int(generator.next() % 6)).map { i in ("k\(i)", randomValue(&generator, depth: depth + 1)) })
        }
    }

    @Test(arguments: [false, true]) func piecesJoinToTheWholeText(pretty: Bool) async throws {
        var generator = SeededGenerator(seed: 29)
        for round in 0..<200 {
            let value = Self.randomValue(&generator)
            let chunkSize = [64, 1000, 65536][round % 3]
            var pieces: [ByteBuffer] = []
            try await JSONStreamWriter.write(value, pretty: pretty, chunkSize: chunkSize) { pieces.append($0) }
            let joined = pieces.flatMap { Array($0.readableBytesView) }
            #expect(joined == JSONWriter.encode(value, pretty: pretty), "round \(round)")
            // No piece grows far past the chunk size (a number array is cut in slices).
            #expect(pieces.allSatisfy { $0.readableBytes <= 2 * chunkSize + 64 })
        }
    }

    @Test func prefixAndSuffixFrameTheText() async throws {
        var text: [UInt8] = []
        try await JSONStreamWriter.write(.numbers([1, 2.5]), pretty: false, chunkSize: 64, prefix: "data: ", suffix: "\n\n") {
            text += Array($0.readableBytesView)
        }
        #expect(String(decoding: text, as: UTF8.self) == "data: [1,2.5]\n\n")
    }
}
