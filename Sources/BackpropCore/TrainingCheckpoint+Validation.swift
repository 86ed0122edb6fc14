/// The checks a checkpoint passes: on its own when decoded, and against the run
/// that resumes from it. Both throw `CoreError(.invalidValue, …)` unlocated.
extension TrainingCheckpoint {
    private static func invalid(_ message: CoreMessage) -> CoreError {
        CoreError(.invalidValue, message)
    }

    /// Throws unless the parts fit together as in a checkpoint the trainer took:
    /// counts agree with the shapes and the configuration, numbers that must be
    /// finite are, and the order is a permutation of the samples.
    func checkConsistency() throws(CoreError) {
        let malformed = ByteReader.malformed
        guard epoch >= 0, epoch <= configuration.epochs else { throw malformed("its epoch is out of range") }
        var count = 0
        for (index, shape) in shapes.enumerated() {
            guard index == 0 || shape.inputs == shapes[index - 1].units else {
                throw malformed("layer \(index)'s inputs do not fit the layer before")
            }
            let (weights, overflow) = shape.inputs.multipliedReportingOverflow(by: shape.units)
            guard !overflow, weights <= parameters.count - count else {
                throw malformed("the parameters do not fit the layer shapes")
            }
            count += weights + (shape.hasBias ? shape.units : 0)
        }
        guard parameters.count == count, parameters.allFinite else {
            throw malformed("the parameters do not fit the layer shapes, or are not finite")
        }
        let optimizer = configuration.optimizer
        guard firstMoments.count == (optimizer.usesFirstMoments ? count : 0),
            secondMoments?.count == (optimizer.usesSecondMoments ? count : nil), step >= 0
        else { throw malformed("the optimizer state does not fit the optimizer and the parameters") }
        guard generator != .zero else { throw malformed("the generator state is all zeros") }
        guard samples >= 1, order.count == samples, validationSamples.map({ $0 >= 1 }) ?? true else {
            throw malformed("the sample counts or the order are invalid")
        }
        var seen = [Bool](repeating: false, count: samples)
        for (position, index) in order.enumerated() {
            guard index >= 0, index < samples, !seen[index], configuration.shuffle || index == position else {
                throw malformed("the sample order is not a permutation of the samples")
            }
            seen[index] = true
        }
        let hasValidation = validationSamples != nil
        guard loss.isFinite, bestLoss.isFinite, (validationLoss != nil) == hasValidation,
            (bestValidationLoss != nil) == hasValidation, validationLoss?.isFinite ?? true,
            bestValidationLoss?.isFinite ?? true
        else { throw malformed("the losses are not finite, or do not fit the validation set") }
        let points = history.epoch.count
        guard points <= min(configuration.epochs, 1000), history.loss.count == points,
            history.validationLoss?.count == (hasValidation ? points : nil),
            history.loss.allFinite, history.validationLoss?.allFinite ?? true,
            zip([0] + history.epoch, history.epoch).allSatisfy({ $0 < $1 }), history.epoch.last ?? 0 <= epoch
        else { throw malformed("the history does not fit its epochs") }
        let restoresBest = configuration.earlyStopping?.restoreBest == true
        guard bestEpoch >= 0, bestEpoch <= epoch, (bestParameters != nil) == restoresBest,
            bestParameters.map({ $0.count == count && $0.allFinite }) ?? true,
            epochsWithoutImprovement >= 0, epochsWithoutImprovement <= epoch,
            epochsWithoutImprovement <= configuration.earlyStopping?.patience ?? Int.max
        else { throw malformed("the early-stopping state does not fit the run") }
    }

    /// Throws unless this checkpoint was taken from a run of `configuration` on a
    /// network of `network`'s shapes and activations and data sets of these sizes.
    func check(
        against network: Network, data: Dataset, validation: Dataset?, configuration: TrainingConfiguration
    ) throws(CoreError) {
        if let field = configuration.firstDifference(from: self.configuration) {
            throw Self.invalid("the checkpoint was taken with another configuration: \(field) differs")
        }
        let layers = network.layers
        guard layers.count == shapes.count else {
            throw Self.invalid("the checkpoint is of a network of \(shapes.count) layers, not \(layers.count)")
        }
        for (index, (layer, shape)) in zip(layers, shapes).enumerated() {
            guard layer.inputs == shape.inputs, layer.units == shape.units, (layer.biases != nil) == shape.hasBias,
                layer.activation == shape.activation
            else {
                throw Self.invalid(
                    "layer \(index) of the checkpoint's network differs in its shape, biases or activation")
            }
        }
        guard data.inputs.rows == samples else {
            throw Self.invalid("the checkpoint was taken on \(samples) samples, not \(data.inputs.rows)")
        }
        guard validation?.inputs.rows == validationSamples else {
            let taken = validationSamples.map { "\($0) validation samples" } ?? "no validation set"
            throw Self.invalid("the checkpoint was taken with \(taken)")
        }
    }
}
