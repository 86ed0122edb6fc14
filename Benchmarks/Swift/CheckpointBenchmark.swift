import BackpropCore
import Synchronization

/// What the checkpoint hooks measured: when `shouldCheckpoint` said yes, and per
/// checkpoint the time to take it (until `save` got it) and to encode it.
final class CheckpointClock: Sendable {
    private struct State {
        var askedAt: ContinuousClock.Instant? = nil
        var take: [Double] = []
        var encode: [Double] = []
        var bytes = 0
    }
    private let state = Mutex(State())

    static func interval(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    var hooks: CheckpointHooks {
        CheckpointHooks(
            shouldCheckpoint: { _ in
                self.state.withLock { $0.askedAt = .now }
                return true
            },
            save: { checkpoint in
                let received = ContinuousClock.now
                let bytes = checkpoint.encoded()
                let encoded = ContinuousClock.now
                self.state.withLock {
                    $0.take.append(Self.interval(received - $0.askedAt!))
                    $0.encode.append(Self.interval(encoded - received))
                    $0.bytes = bytes.count
                }
            })
    }

    var measured: (take: [Double], encode: [Double], bytes: Int) {
        state.withLock { ($0.take, $0.encode, $0.bytes) }
    }
}

/// The MLP epoch of target 1 without checkpoints, and with a checkpoint after every
/// epoch encoded to bytes (the runs alternate, medians of each): target, a
/// checkpoint costs at most 5% of an epoch. Also the checkpoint's own cost, timed
/// inside the hooks, which the noise of whole epochs does not blur.
func checkpoint() throws {
    let (network, data, configuration) = try mlpRun()
    let trainer = Trainer(configuration)
    let clock = CheckpointClock()
    let hooks = clock.hooks
    var plain: [Double] = [], checkpointed: [Double] = []
    var same = true
    for repetition in 0..<repetitions {
        var a: TrainingResult?, b: TrainingResult?
        // Alternately first, so neither kind always runs on the heels of the other.
        for checkpoints in repetition % 2 == 0 ? [false, true] : [true, false] {
            if checkpoints {
                checkpointed.append(try seconds { b = try trainer.train(network, on: data, checkpoints: hooks) })
            } else {
                plain.append(try seconds { a = try trainer.train(network, on: data) })
            }
        }
        same = same && a == b
    }
    let measured = clock.measured
    let epoch = median(plain), withCheckpoint = median(checkpointed)
    let cost = median(measured.take) + median(measured.encode)
    report([
        "benchmark": "checkpoint", "threads": threads, "epoch_seconds": epoch,
        "epoch_with_checkpoint_seconds": withCheckpoint, "overhead_ratio": withCheckpoint / epoch,
        "checkpoint_take_seconds": median(measured.take), "checkpoint_encode_seconds": median(measured.encode),
        "checkpoint_share_of_epoch": cost / epoch, "checkpoint_bytes": measured.bytes, "same_result": same,
    ])
}
