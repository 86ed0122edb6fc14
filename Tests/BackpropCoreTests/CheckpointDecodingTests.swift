import BackpropCore
import BackpropTestSupport
import Testing

/// Bad checkpoint bytes, and checkpoints of another run, throw: never a trap.
@Suite struct CheckpointDecodingTests {
    /// Adam (both moment buffers), a validation set and early stopping that restores
    /// the best network (best parameters): every part of the format is present.
    static let scenario: CheckpointScenario = {
        let data = CheckpointScenario.data(samples: 5, inputs: 2, outputs: 2, seed: 31)
        return CheckpointScenario(
            name: "full", network: CheckpointScenario.network([2, 3, 2], [.tanh, .sigmoid]), data: data,
            validation: CheckpointScenario.data(samples: 3, inputs: 2, outputs: 2, seed: 32),
            configuration: TrainingConfiguration(
                epochs: 12, learningRate: 0.05, batchSize: 2, seed: 33, optimizer: .adam(),
                earlyStopping: EarlyStopping(patience: 50)))
    }()

    static func checkpoint(at epoch: Int = 6) throws -> TrainingCheckpoint {
        let saved = SavedCheckpoints()
        _ = try Trainer(scenario.configuration).train(
            scenario.network, on: scenario.data, validation: scenario.validation,
            checkpoints: CheckpointHooks(shouldCheckpoint: { $0 == epoch }, save: saved.append))
        return try #require(saved.all.first)
    }

    /// Expects `body` to throw an `.invalidValue` error with an empty path.
    static func expectRefusal(
        containing text: String = "", sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws(CoreError) -> Void
    ) {
        do {
            try body()
            Issue.record("no error thrown", sourceLocation: sourceLocation)
        } catch {
            #expect(error.code == .invalidValue, sourceLocation: sourceLocation)
            #expect(error.location == .unlocated, sourceLocation: sourceLocation)
            #expect(text.isEmpty || error.message.description.contains(text), "\(error.message)", sourceLocation: sourceLocation)
        }
    }

    @Test func truncatedOrExtendedBytesThrow() throws {
        let bytes = try Self.checkpoint().encoded()
        for length in 0..<bytes.count {
            Self.expectRefusal { () throws(CoreError) in _ = try TrainingCheckpoint(decoding: Array(bytes.prefix(length))) }
        }
        Self.expectRefusal(containing: "follow") { () throws(CoreError) in
            _ = try TrainingCheckpoint(decoding: bytes + [0])
        }
    }

    @Test func wrongMagicOrVersionThrows() throws {
        let bytes = try Self.checkpoint().encoded()
        #expect(Array(bytes.prefix(5)) == Array("BPCK".utf8) + [1])
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        Self.expectRefusal(containing: "not a training checkpoint") { () throws(CoreError) in
            _ = try TrainingCheckpoint(decoding: magic)
        }
        var version = bytes
        version[4] = 2
        Self.expectRefusal(containing: "version 2") { () throws(CoreError) in
            _ = try TrainingCheckpoint(decoding: version)
        }
    }

    /// Every byte set to 0x00, 0xFF or with its low bit flipped: the decoder throws,
    /// or the checkpoint it accepts trains (or is refused by the trainer) without a trap.
    @Test func corruptBytesNeverTrap() throws {
        let bytes = try Self.checkpoint().encoded()
        var accepted = 0
        for position in bytes.indices {
            for value in Set([0x00, 0xFF, bytes[position] ^ 1]) where value != bytes[position] {
                var corrupt = bytes
                corrupt[position] = value
                guard let checkpoint = try? TrainingCheckpoint(decoding: corrupt) else { continue }
                accepted += 1
                _ = try? Trainer(Self.scenario.configuration).train(
                    Self.scenario.network, on: Self.scenario.data, validation: Self.scenario.validation,
                    resumingFrom: checkpoint)
            }
        }
        #expect(accepted > 0)  // changed numbers (weights, moments) still decode
    }

    @Test func aCheckpointOfAnotherConfigurationIsRefused() throws {
        let checkpoint = try Self.checkpoint()
        let s = Self.scenario
        func refuse(
            _ change: (inout TrainingConfiguration) -> Void, _ text: String,
            sourceLocation: SourceLocation = #_sourceLocation
        ) {
            var configuration = s.configuration
            change(&configuration)
            Self.expectRefusal(containing: text, sourceLocation: sourceLocation) { () throws(CoreError) in
                _ = try Trainer(configuration).train(
                    s.network, on: s.data, validation: s.validation, resumingFrom: checkpoint)
            }
        }
        refuse({ $0.learningRate = 0.06 }, "learning_rate differs")
        refuse({ $0.epochs = 5 }, "epochs differs")  // fewer than the checkpoint's 6
        refuse({ $0.epochs = 20 }, "epochs differs")
        refuse({ $0.optimizer = .sgd(momentum: 0.9) }, "optimizer differs")
        refuse({ $0.optimizer = .adam(beta1: 0.8) }, "optimizer differs")
        refuse({ $0.batchSize = 3 }, "batch_size differs")
        refuse({ $0.seed = 34 }, "seed differs")
        refuse({ $0.l2 = 0.1 }, "l2 differs")
        refuse({ $0.earlyStopping = nil }, "early_stopping differs")
        // Threads change no bit, so they may differ.
        var threads = s.configuration
        threads.threads = 2
        _ = try Trainer(threads).train(s.network, on: s.data, validation: s.validation, resumingFrom: checkpoint)
    }

    @Test func aCheckpointOfAnotherNetworkOrDataIsRefused() throws {
        let checkpoint = try Self.checkpoint()
        let s = Self.scenario
        let trainer = Trainer(s.configuration)
        for (network, text) in [
            (CheckpointScenario.network([2, 4, 2], [.tanh, .sigmoid]), "layer 0"),
            (CheckpointScenario.network([2, 3, 2], [.relu, .sigmoid]), "layer 0"),
            (CheckpointScenario.network([2, 3, 2], [.tanh, .sigmoid], bias: false), "layer 0"),
            (CheckpointScenario.network([2, 3, 3, 2], [.tanh, .tanh, .sigmoid]), "2 layers, not 3"),
        ] {
            Self.expectRefusal(containing: text) { () throws(CoreError) in
                _ = try trainer.train(network, on: s.data, validation: s.validation, resumingFrom: checkpoint)
            }
        }
        let fewer = CheckpointScenario.data(samples: 4, inputs: 2, outputs: 2, seed: 31)
        Self.expectRefusal(containing: "5 samples, not 4") { () throws(CoreError) in
            _ = try trainer.train(s.network, on: fewer, validation: s.validation, resumingFrom: checkpoint)
        }
        Self.expectRefusal(containing: "3 validation samples") { () throws(CoreError) in
            _ = try trainer.train(s.network, on: s.data, resumingFrom: checkpoint)
        }
        Self.expectRefusal(containing: "3 validation samples") { () throws(CoreError) in
            _ = try trainer.train(s.network, on: s.data, validation: fewer, resumingFrom: checkpoint)
        }
        // A checkpoint of a run without validation, resumed with a validation set.
        let plain = CheckpointScenario.all[0]
        let saved = SavedCheckpoints()
        _ = try Trainer(plain.configuration).train(
            plain.network, on: plain.data,
            checkpoints: CheckpointHooks(shouldCheckpoint: { $0 == 3 }, save: saved.append))
        let withoutValidation = try #require(saved.all.first)
        Self.expectRefusal(containing: "no validation set") { () throws(CoreError) in
            _ = try Trainer(plain.configuration).train(
                plain.network, on: plain.data, validation: plain.data, resumingFrom: withoutValidation)
        }
    }
}
