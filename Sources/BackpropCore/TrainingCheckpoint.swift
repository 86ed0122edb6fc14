/// Everything the rest of a run depends on, taken at the end of a completed epoch.
///
/// `Trainer.train(_:on:validation:resumingFrom:...)` goes on from a checkpoint and
/// ends with the same bits as the run that never stopped: the same network, losses,
/// history, `epochsRun` and `stopped`. A checkpoint resumes only the run it was
/// taken from: the same configuration (`threads` aside, which changes no bit), a
/// network of the same shapes and activations, and data sets of the same sizes.
///
/// It holds the parameters at the end of its epoch (which are also the last finite
/// ones), the optimizer's moment buffers and step count, the shuffle generator's
/// state, the current sample order (each epoch shuffles the previous order), the
/// history so far, the current losses and the early-stopping state.
///
/// `encoded()` gives a compact binary form; `init(decoding:)` reads it back and
/// checks it is whole and consistent.
public struct TrainingCheckpoint: Sendable, Equatable {
    /// Epochs completed when it was taken.
    public internal(set) var epoch: Int

    /// The run's configuration, with `threads` set to 1.
    var configuration: TrainingConfiguration
    /// The network's layer shapes and activations.
    var shapes: [LayerShape]
    /// The sample counts of the training and the validation set.
    var samples: Int
    var validationSamples: Int?

    /// The parameters at the end of `epoch`, in `Parameters.flat` order. They are
    /// also the last finite parameters, since a checkpoint follows a finite epoch.
    var parameters: [Double]
    /// The optimizer's first moments (SGD's momentum buffer, Adam's m), flat; empty
    /// for SGD without momentum, which never uses them.
    var firstMoments: [Double]
    /// Adam's second moments v, flat; nil for SGD.
    var secondMoments: [Double]?
    /// Optimizer updates so far.
    var step: Int

    /// The shuffle generator's state, and the sample order it last shuffled.
    var generator: SIMD4<UInt64>
    var order: [Int]

    /// The losses of `parameters`.
    var loss: Double
    var validationLoss: Double?
    /// The history recorded so far (its next point follows from its length).
    var history: History

    /// Early stopping: the best epoch, its losses and (with `restoreBest`) its
    /// parameters, and the epochs since it.
    var bestEpoch: Int
    var bestLoss: Double
    var bestValidationLoss: Double?
    var bestParameters: [Double]?
    var epochsWithoutImprovement: Int

    init(
        epoch: Int, configuration: TrainingConfiguration, shapes: [LayerShape], samples: Int,
        validationSamples: Int?, parameters: [Double], firstMoments: [Double], secondMoments: [Double]?,
        step: Int, generator: SIMD4<UInt64>, order: [Int], loss: Double, validationLoss: Double?,
        history: History, bestEpoch: Int, bestLoss: Double, bestValidationLoss: Double?,
        bestParameters: [Double]?, epochsWithoutImprovement: Int
    ) {
        self.epoch = epoch
        var configuration = configuration
        configuration.threads = 1
        self.configuration = configuration
        self.shapes = shapes
        self.samples = samples
        self.validationSamples = validationSamples
        self.parameters = parameters
        self.firstMoments = firstMoments
        self.secondMoments = secondMoments
        self.step = step
        self.generator = generator
        self.order = order
        self.loss = loss
        self.validationLoss = validationLoss
        self.history = history
        self.bestEpoch = bestEpoch
        self.bestLoss = bestLoss
        self.bestValidationLoss = bestValidationLoss
        self.bestParameters = bestParameters
        self.epochsWithoutImprovement = epochsWithoutImprovement
    }
}
