import BackpropCore
import BackpropTestSupport
import Testing

/// A run interrupted at a checkpoint and resumed ends bit for bit as the run that
/// never stopped. The malformed and mismatched checkpoints: `CheckpointDecodingTests`.
@Suite struct CheckpointTests {
    /// The run without checkpoints, and the progress it reported.
    static func uninterrupted(_ scenario: CheckpointScenario) throws -> (TrainingResult, [EpochProgress]) {
        var progress: [EpochProgress] = []
        let result = try Trainer(scenario.configuration).train(
            scenario.network, on: scenario.data, validation: scenario.validation
        ) { progress.append($0) }
        return (result, progress)
    }

    /// A network of the same shapes with other weights: resuming replaces them all.
    static func otherWeights(_ network: Network) throws -> Network {
        try Network(
            layers: network.layers.map { layer in
                var layer = layer
                for i in layer.weights.storage.indices { layer.weights[element: i] = 0.25 - layer.weights[element: i] }
                layer.biases = layer.biases?.map { $0 + 0.5 }
                return layer
            })
    }

    /// Takes one checkpoint at `epoch`, then stops the run from `save`, as a killed job.
    static func interrupt(
        _ scenario: CheckpointScenario, network: Network, at epoch: Int, resumingFrom checkpoint: TrainingCheckpoint? = nil,
        threads: Int = 1
    ) throws -> (TrainingResult, TrainingCheckpoint?) {
        let flag = CancellationFlag()
        let saved = SavedCheckpoints()
        let hooks = CheckpointHooks(
            shouldCheckpoint: { $0 == epoch },
            save: { checkpoint in
                saved.append(checkpoint)
                flag.cancel()
            })
        var configuration = scenario.configuration
        configuration.threads = threads
        let result = try Trainer(configuration).train(
            network, on: scenario.data, validation: scenario.validation, resumingFrom: checkpoint,
            cancellation: flag, checkpoints: hooks)
        #expect(saved.all.count <= 1)
        return (result, saved.all.first)
    }

    @Test(arguments: CheckpointScenario.all)
    func resumingFromAnEpochGivesTheUninterruptedResult(_ scenario: CheckpointScenario) throws {
        let (full, fullProgress) = try Self.uninterrupted(scenario)
        #expect(full.stopped == scenario.expectedStop)
        let epochs = full.epochsRun
        try #require(epochs >= 3)
        if scenario.configuration.epochs > 1000 { #expect(full.history.epoch.count == 1000) }

        // Taking a checkpoint after every epoch changes nothing.
        let saved = SavedCheckpoints()
        let watched = try Trainer(scenario.configuration).train(
            scenario.network, on: scenario.data, validation: scenario.validation,
            checkpoints: CheckpointHooks(shouldCheckpoint: { _ in true }, save: saved.append))
        expectBitIdentical(watched, full)
        let checkpoints = saved.all
        try #require(checkpoints.map(\.epoch) == Array(1...epochs))

        let other = try Self.otherWeights(scenario.network)
        for epoch in Set([1, 2, epochs / 2, epochs - 1, epochs]).sorted() {
            let bytes = checkpoints[epoch - 1].encoded()
            let checkpoint = try TrainingCheckpoint(decoding: bytes)
            #expect(checkpoint == checkpoints[epoch - 1])
            #expect(checkpoint.encoded() == bytes)
            #expect(checkpoint.epoch == epoch)
            var progress: [EpochProgress] = []
            let resumed = try Trainer(scenario.configuration).train(
                other, on: scenario.data, validation: scenario.validation, resumingFrom: checkpoint
            ) { progress.append($0) }
            expectBitIdentical(resumed, full)
            #expect(progress.map(\.epoch) == Array(epoch + 1..<epoch + 1 + progress.count))
            #expect(progress == Array(fullProgress.dropFirst(epoch)))
        }
    }

    /// Killed at one checkpoint, resumed (on 2 threads) and killed at the next,
    /// resumed again: still the uninterrupted run's bits.
    @Test(arguments: CheckpointScenario.all)
    func chainedResumesGiveTheUninterruptedResult(_ scenario: CheckpointScenario) throws {
        let (full, _) = try Self.uninterrupted(scenario)
        let epochs = full.epochsRun
        let (first, second) = (max(1, epochs / 3), max(2, 2 * epochs / 3))
        try #require(second < epochs)

        let (stoppedOnce, checkpoint) = try Self.interrupt(scenario, network: scenario.network, at: first)
        #expect(stoppedOnce.stopped == .cancelled)
        #expect(stoppedOnce.epochsRun == first)
        let once = try TrainingCheckpoint(decoding: try #require(checkpoint).encoded())

        let other = try Self.otherWeights(scenario.network)
        let (stoppedTwice, next) = try Self.interrupt(scenario, network: other, at: second, resumingFrom: once, threads: 2)
        #expect(stoppedTwice.stopped == .cancelled)
        #expect(stoppedTwice.epochsRun == second)
        let twice = try TrainingCheckpoint(decoding: try #require(next).encoded())
        #expect(twice.epoch == second)

        let resumed = try Trainer(scenario.configuration).train(
            other, on: scenario.data, validation: scenario.validation, resumingFrom: twice)
        expectBitIdentical(resumed, full)
    }

    /// Progress after a resume starts at the checkpoint's epoch + 1, and only the
    /// epochs asked for are checkpointed.
    @Test func progressAfterAResumeStartsAfterTheCheckpoint() throws {
        let scenario = CheckpointScenario.all[1]
        let saved = SavedCheckpoints()
        _ = try Trainer(scenario.configuration).train(
            scenario.network, on: scenario.data,
            checkpoints: CheckpointHooks(shouldCheckpoint: { $0 % 10 == 7 }, save: saved.append))
        #expect(saved.all.map(\.epoch) == [7, 17, 27, 37])
        var seen: [Int] = []
        let result = try Trainer(scenario.configuration).train(
            scenario.network, on: scenario.data, resumingFrom: saved.all[1]
        ) { seen.append($0.epoch) }
        #expect(seen == Array(18...40))
        #expect(result.epochsRun == 40)
        #expect(result.history.epoch == Array(1...40))
    }

    /// A checkpoint of the last epoch resumes into the finished run at once.
    @Test func aCheckpointOfTheLastEpochFinishesAtOnce() throws {
        let scenario = CheckpointScenario.all[0]
        let (full, _) = try Self.uninterrupted(scenario)
        let saved = SavedCheckpoints()
        _ = try Trainer(scenario.configuration).train(
            scenario.network, on: scenario.data,
            checkpoints: CheckpointHooks(shouldCheckpoint: { $0 == 40 }, save: saved.append))
        let last = try #require(saved.all.first)
        var calls = 0
        let resumed = try Trainer(scenario.configuration).train(
            scenario.network, on: scenario.data, resumingFrom: last
        ) { _ in calls += 1 }
        #expect(calls == 0)
        expectBitIdentical(resumed, full)
    }
}
