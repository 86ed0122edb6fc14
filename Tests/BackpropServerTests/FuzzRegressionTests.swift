import BackpropServer
import Foundation
import Testing

/// The fuzzer's inputs replayed as ordinary tests (TESTING.md, Fuzzing): the seeds of
/// Tests/Fuzz/corpus/ must stay valid requests, and every finding kept in
/// Tests/Fuzz/findings/ must get a 4xx or nothing, never a crash or a 500; for both,
/// JSONWriter's output must parse back to the value read.
///
/// An input is what Sources/BackpropFuzz/FuzzRequest.swift reads: the first byte picks
/// the route (byte % 6: 0 /forward, 1 /gradient, 2 /train computed where the route
/// computes, 3 to 5 the same read only), the rest is the body.
@Suite struct FuzzRegressionTests {
    /// The fuzzer's limits, so that a finding replays as it was found.
    static let limits = Limits(maximumParameters: 100_000, synchronousTrainingBudget: 10_000_000)

    static let fuzzFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    /// The answer to one fuzzer input, as the fuzz target computes it.
    static func replay(_ input: [UInt8]) -> Problem? {
        guard let first = input.first else { return nil }
        let selector = Int(first) % 6
        return RequestReader.check(
            Array(input.dropFirst()), route: RequestReader.Route.allCases[selector % 3], limits: limits,
            compute: selector < 3)
    }

    /// The fuzz target's second check: a body that parses, finite, must survive
    /// JSONWriter and JSONParser again unchanged, compact and pretty. Nil when it does.
    static func roundTripFault(_ input: [UInt8]) -> String? {
        guard let value = try? JSONParser.parse(Array(input.dropFirst())), !value.containsNonFinite else { return nil }
        for pretty in [false, true] {
            let written = JSONWriter.encode(value, pretty: pretty)
            guard let back = try? JSONParser.parse(written) else { return "pretty \(pretty): the output does not parse" }
            if back != value { return "pretty \(pretty): the output parses to another value" }
        }
        return nil
    }

    static func files(in folder: String) -> [String] {
        let url = fuzzFolder.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted()
    }

    static func read(_ folder: String, _ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fuzzFolder.appendingPathComponent(folder).appendingPathComponent(name)))
    }

    @Test func theSeedCorpusIsThere() {
        #expect(Self.files(in: "corpus").count >= 10, "no seeds in \(Self.fuzzFolder.path)/corpus")
    }

    /// A seed that stopped being a valid request no longer leads the fuzzer past the
    /// checks into the computation: update it with the API.
    @Test(arguments: files(in: "corpus"))
    func seedIsAValidRequest(_ name: String) throws {
        let input = try Self.read("corpus", name)
        let problem = Self.replay(input)
        #expect(problem == nil, "\(name): \(problem.map { "\($0.status.code) \($0.title): \($0.detail)" } ?? "")")
        #expect(Self.roundTripFault(input) == nil, "\(name): \(Self.roundTripFault(input) ?? "")")
    }

    /// Inputs the fuzzer found that once crashed or got a 500 (Tests/Fuzz/findings/).
    /// Each is first replayed in a child process (an exit test), so an input that still
    /// traps fails its own test case (".success → .signal(SIGILL)") instead of ending
    /// the whole run; replay it with the fuzzer for the message and stack. Then again in
    /// this process, for a 500 or a changed round trip with their details.
    @Test(arguments: files(in: "findings"))
    func findingGetsNoServerError(_ name: String) async throws {
        let input = try Self.read("findings", name)
        let survived = await #expect(processExitsWith: .success) { [input = input as [UInt8]] in
            _ = FuzzRegressionTests.replay(input)
            _ = FuzzRegressionTests.roundTripFault(input)
        }
        guard survived != nil else { return }
        let problem = Self.replay(input)
        #expect((problem?.status.code ?? 200) < 500, "\(name): \(problem.map { "\($0.status.code) \($0.title): \($0.detail)" } ?? "")")
        #expect(Self.roundTripFault(input) == nil, "\(name): \(Self.roundTripFault(input) ?? "")")
    }
}
