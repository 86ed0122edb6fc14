import BackpropClient
import Foundation
import Testing

/// README's "Use from Swift" example, as it is there but for the server's address, with
/// what it prints checked.
@Suite struct ReadmeExampleTests {
    @Test func useFromSwiftExampleRunsAndPrintsWhatTheReadmeSays() async throws {
        try await withLiveClient { api in
            var lines: [String] = []
            func print(_ items: Any...) { lines.append(items.map { "\($0)" }.joined(separator: " ")) }

            // From README.md, "Use from Swift":
            let network = BackpropClient.Network(layers: [
                .given(weights: [[0.5, -0.6], [0.1, -0.2], [0.1, 0.7]]),  // 3 inputs, 2 units
                .given(weights: [0.1, -0.3]),                             // one unit: the vector shorthand
            ])
            let step = try await api.gradient(.init(network: network, input: .sample([0.5, 0.1, -0.2]), target: 0.6, learningRate: 0.5))
            print(step.output.tensor)                  // scalar(0.4849734308499254)
            print(step.layers[0].weightDelta.tensor)   // matrix([[0.00017700554663735332, -0.0005111785059877154], …])

            // XOR as a training job, followed through its events.
            let xor = BackpropClient.TrainRequest(
                network: .init(inputs: 2, layers: [.generated(units: 4), .generated(units: 1)], seed: 7),
                inputs: .batch([[0, 0], [0, 1], [1, 0], [1, 1]]), targets: .vector([0, 1, 1, 0]),
                epochs: 2000, learningRate: 2, seed: 7, optimizer: .sgd(momentum: 0.9))
            let job = try await api.submitJob(xor)
            for try await event in api.events(of: job.id) {   // `after: lastID` resumes
                switch event.kind {
                case .progress(let progress): print("epoch \(progress.epoch): loss \(progress.loss)")
                case .done(let result): print("trained: loss \(result.loss), \(result.network.layers.count) layers")
                case .resultDropped(let problem), .failed(let problem): print(problem)
                case .cancelled(let cancellation): print("cancelled at epoch \(cancellation.epoch)")
                }
            }

            // A problem answer is a typed error.
            do {
                _ = try await api.forward(.init(network: .init(layers: [.given(weights: [[1, 2], [3, 4]]), .given(weights: [[1], [2], [3]])]),
                                                input: .sample([1, 2])))
            } catch let problem as BackpropProblem {
                print(problem.status, problem.title, problem.pointer ?? "")  // 422 Shape mismatch /network/layers/1/weights
            }
            // End of the README's example.

            #expect(lines.first == "scalar(0.4849734308499254)")
            #expect(lines.dropFirst().first?.hasPrefix("matrix([[0.00017700554663735332, -0.0005111785059877154], ") == true)
            let progress = lines.dropFirst(2).dropLast(2)
            #expect(!progress.isEmpty && progress.allSatisfy { $0.hasPrefix("epoch ") })
            #expect(progress.last?.hasPrefix("epoch 2000: loss ") == true)
            #expect(lines.dropLast().last?.hasPrefix("trained: loss ") == true)
            #expect(lines.dropLast().last?.hasSuffix(", 2 layers") == true)
            #expect(lines.last == "422 Shape mismatch /network/layers/1/weights")
        }
    }

    /// The code above is README's, line for line (indentation aside).
    @Test func theReadmeShowsThisCode() throws {
        let thisFile = URL(filePath: #filePath)
        let root = thisFile.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appending(path: "README.md"), encoding: .utf8)
        let test = try String(contentsOf: thisFile, encoding: .utf8)
        let readmeStart = try #require(readme.range(of: "let network = BackpropClient.Network(layers: ["))
        let readmeEnd = try #require(readme.range(of: "```", range: readmeStart.lowerBound..<readme.endIndex))
        let testStart = try #require(test.range(of: "// From README.md, \"Use from Swift\":\n"))
        let testEnd = try #require(test.range(of: "// End of the README's example.", range: testStart.upperBound..<test.endIndex))
        func lines(_ text: Substring) -> [String] {
            text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let shown = lines(readme[readmeStart.lowerBound..<readmeEnd.lowerBound])
        #expect(shown.count > 25)
        #expect(shown == lines(test[testStart.upperBound..<testEnd.lowerBound]))
    }
}
