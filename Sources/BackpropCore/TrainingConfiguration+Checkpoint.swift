/// A configuration in the checkpoint format: every setting that changes a result
/// (`threads` does not, so it is left out).
extension TrainingConfiguration {
    func write(to writer: inout ByteWriter) {
        writer.write(epochs)
        writer.write(learningRate)
        writer.write(batchSize)
        writer.write(shuffle)
        writer.write(seed)
        writer.write(loss.rawValue)
        switch optimizer {
        case .sgd(let momentum, let nesterov):
            writer.write("sgd")
            writer.write(momentum)
            writer.write(nesterov)
        case .adam(let beta1, let beta2, let epsilon):
            writer.write("adam")
            writer.write(beta1)
            writer.write(beta2)
            writer.write(epsilon)
        }
        writer.write(l1)
        writer.write(l2)
        writer.write(earlyStopping != nil)
        if let earlyStopping {
            writer.write(earlyStopping.patience)
            writer.write(earlyStopping.minDelta)
            writer.write(earlyStopping.restoreBest)
        }
    }

    /// Reads what `write(to:)` wrote; throws unless it is a valid configuration.
    init(reading reader: inout ByteReader) throws(CoreError) {
        self.init()
        epochs = try reader.readInt()
        learningRate = try reader.readDouble()
        batchSize = try reader.readOptionalInt()
        shuffle = try reader.readBool()
        seed = try reader.readUInt64()
        guard let loss = Loss(rawValue: try reader.readString()) else {
            throw ByteReader.malformed("unknown loss")
        }
        self.loss = loss
        switch try reader.readString() {
        case "sgd":
            optimizer = .sgd(momentum: try reader.readDouble(), nesterov: try reader.readBool())
        case "adam":
            optimizer = .adam(
                beta1: try reader.readDouble(), beta2: try reader.readDouble(), epsilon: try reader.readDouble())
        default:
            throw ByteReader.malformed("unknown optimizer")
        }
        l1 = try reader.readDouble()
        l2 = try reader.readDouble()
        earlyStopping = try reader.readBool()
            ? EarlyStopping(
                patience: try reader.readInt(), minDelta: try reader.readDouble(), restoreBest: try reader.readBool())
            : nil
        do { try validate() } catch { throw ByteReader.malformed("its configuration is invalid (\(error))") }
    }

    /// The name of the first setting (`threads` aside) in which `other` differs, or nil.
    func firstDifference(from other: TrainingConfiguration) -> String? {
        var a = self, b = other
        a.threads = 1
        b.threads = 1
        guard a != b else { return nil }
        if epochs != other.epochs { return "epochs" }
        if learningRate != other.learningRate { return "learning_rate" }
        if batchSize != other.batchSize { return "batch_size" }
        if shuffle != other.shuffle { return "shuffle" }
        if seed != other.seed { return "seed" }
        if loss != other.loss { return "loss" }
        if optimizer != other.optimizer { return "optimizer" }
        if l1 != other.l1 { return "l1" }
        if l2 != other.l2 { return "l2" }
        return "early_stopping"
    }
}
