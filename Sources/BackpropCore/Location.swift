/// Where a fault lies in what was handed to the core, in the core's own terms.
///
/// The core never spells a field the way a request does: the HTTP layer turns a
/// location into a JSON Pointer, in one place (`WireNames`).
public enum Location: Sendable, Equatable {
    /// No particular place: checkpoint bytes, or a matrix built directly.
    case unlocated
    /// The network as a whole.
    case network
    /// The network's list of layers.
    case layers
    /// The number of inputs the network is declared with.
    case networkInputs
    /// Layer `index`, or one of its parts.
    case layer(Int, LayerPart? = nil)
    /// A data set's inputs or targets, or one row (sample) of them.
    case data(DataSet, DataPart, row: Int? = nil)
    /// The loss function.
    case loss
    /// One training setting.
    case setting(Setting)

    public enum LayerPart: Sendable, Equatable { case weights, biases, activation, units }
    public enum DataSet: Sendable, Equatable { case training, validation }
    public enum DataPart: Sendable, Equatable { case inputs, targets }

    /// The settings of a training run (`TrainingConfiguration`, its optimizer and early stopping).
    public enum Setting: Sendable, Equatable {
        case epochs, learningRate, batchSize, l1, l2
        case momentum, nesterov, beta1, beta2, epsilon
        case patience, minDelta
    }

    /// The same place in the validation set (for faults found by checks shared by both sets).
    public func inValidation() -> Location {
        guard case .data(_, let part, let row) = self else { return self }
        return .data(.validation, part, row: row)
    }
}

extension Location: CustomStringConvertible {
    /// The core's own wording, for logs and library users (`layer 1 weights`, `validation targets row 3`).
    public var description: String {
        switch self {
        case .unlocated: "nowhere in particular"
        case .network: "the network"
        case .layers: "the layers"
        case .networkInputs: "the network's inputs"
        case .layer(let index, let part): "layer \(index)" + (part.map { " \($0)" } ?? "")
        case .data(let set, let part, let row):
            (set == .validation ? "validation " : "") + "\(part)" + (row.map { " row \($0)" } ?? "")
        case .loss: "the loss"
        case .setting(let setting): "\(setting)"
        }
    }
}
