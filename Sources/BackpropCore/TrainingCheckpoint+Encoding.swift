/// The binary form of a checkpoint, version 1. Little-endian throughout:
///
///     "BPCK", then the version (one byte)
///     the configuration (`TrainingConfiguration.write(to:)`, `threads` left out)
///     epoch; layer count, then each layer's inputs, units, has-bias flag, activation
///     samples; validation samples?
///     parameters; first moments; second moments?; optimizer step
///     generator (4 words); sample order
///     loss; validation loss?
///     history epochs; history losses; history validation losses?
///     best epoch; best loss; best validation loss?; best parameters?
///     epochs without improvement
///
/// Integers are 8-byte two's complement, doubles their 8-byte bit patterns (so
/// they read back exactly), flags one byte (0 or 1), names and arrays a count and
/// then their elements, and `x?` a flag and then x if the flag is 1.
extension TrainingCheckpoint {
    static let magic = Array("BPCK".utf8)
    static let formatVersion: UInt8 = 1

    /// A compact binary form (little-endian, after a magic and a version byte);
    /// exact doubles.
    public func encoded() -> [UInt8] {
        let arrays = [parameters.count, firstMoments.count, secondMoments?.count ?? 0, bestParameters?.count ?? 0]
        let numbers = arrays.reduce(0, +) + order.count + 3 * history.epoch.count
        var writer = ByteWriter(capacity: 8 * numbers + 40 * shapes.count + 400)
        for byte in Self.magic { writer.write(byte) }
        writer.write(Self.formatVersion)
        configuration.write(to: &writer)
        writer.write(epoch)
        writer.write(shapes.count)
        for shape in shapes { shape.write(to: &writer) }
        writer.write(samples)
        writer.write(validationSamples)
        writer.write(parameters)
        writer.write(firstMoments)
        writer.write(secondMoments)
        writer.write(step)
        for index in 0..<4 { writer.write(generator[index]) }
        writer.write(order)
        writer.write(loss)
        writer.write(validationLoss)
        writer.write(history.epoch)
        writer.write(history.loss)
        writer.write(history.validationLoss)
        writer.write(bestEpoch)
        writer.write(bestLoss)
        writer.write(bestValidationLoss)
        writer.write(bestParameters)
        writer.write(epochsWithoutImprovement)
        return writer.bytes
    }

    /// Reads `encoded()`'s form. Throws `CoreError(.invalidValue, …)` for anything
    /// malformed, truncated, of another format version, or not a consistent
    /// checkpoint; never traps on bad bytes.
    public init(decoding bytes: [UInt8]) throws(CoreError) {
        var reader = ByteReader(bytes)
        for byte in Self.magic where try reader.readByte() != byte {
            throw CoreError(.invalidValue, "these bytes are not a training checkpoint")
        }
        let version = try reader.readByte()
        guard version == Self.formatVersion else {
            throw CoreError(
                .invalidValue,
                "the checkpoint has format version \(version); this build reads version \(Self.formatVersion)")
        }
        let configuration = try TrainingConfiguration(reading: &reader)
        let epoch = try reader.readInt()
        let layerCount = try reader.readInt()
        guard layerCount >= 1 else { throw ByteReader.malformed("it has no layers") }
        var shapes: [LayerShape] = []
        for _ in 0..<layerCount { shapes.append(try LayerShape(reading: &reader)) }
        let samples = try reader.readInt()
        let validationSamples = try reader.readOptionalInt()
        let parameters = try reader.readDoubles()
        let firstMoments = try reader.readDoubles()
        let secondMoments = try reader.readOptionalDoubles()
        let step = try reader.readInt()
        let generator = SIMD4(
            try reader.readUInt64(), try reader.readUInt64(), try reader.readUInt64(), try reader.readUInt64())
        let order = try reader.readInts()
        let loss = try reader.readDouble()
        let validationLoss = try reader.readOptionalDouble()
        let history = History(
            epoch: try reader.readInts(), loss: try reader.readDoubles(),
            validationLoss: try reader.readOptionalDoubles())
        self.init(
            epoch: epoch, configuration: configuration, shapes: shapes, samples: samples,
            validationSamples: validationSamples, parameters: parameters, firstMoments: firstMoments,
            secondMoments: secondMoments, step: step, generator: generator, order: order, loss: loss,
            validationLoss: validationLoss, history: history, bestEpoch: try reader.readInt(),
            bestLoss: try reader.readDouble(), bestValidationLoss: try reader.readOptionalDouble(),
            bestParameters: try reader.readOptionalDoubles(), epochsWithoutImprovement: try reader.readInt())
        guard reader.isAtEnd else { throw ByteReader.malformed("bytes follow its end") }
        try checkConsistency()
    }
}
