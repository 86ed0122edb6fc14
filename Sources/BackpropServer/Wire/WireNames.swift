import BackpropCore

/// How a request names the core's places: the one spot where a `Location` becomes a
/// JSON Pointer, and the places a core message mentions become the request's field names.
struct WireNames: Sendable {
    /// Where the network stands in the request.
    var network = JSONPointer(["network"])
    /// The data's field names: `input` and `target` (/forward, /gradient), or
    /// `inputs` and `targets` (/train and its validation set).
    var inputs = "inputs"
    var targets = "targets"
    /// Whether the data are a batch. One sample has no rows to name, so a fault in
    /// its row 0 is placed at the field itself.
    var batch = true

    /// /forward and /gradient: `input` and `target`.
    static func sample(network: JSONPointer, batch: Bool) -> WireNames {
        WireNames(network: network, inputs: "input", targets: "target", batch: batch)
    }

    /// /train and its jobs: `inputs` and `targets`.
    static func training(network: JSONPointer, batch: Bool = true) -> WireNames {
        WireNames(network: network, batch: batch)
    }

    /// The location's place: the pointer its part of the request stands at, and the
    /// tokens below it.
    func place(_ location: Location) -> (base: JSONPointer, tokens: [String]) {
        switch location {
        case .unlocated: (JSONPointer(), [])
        case .network: (JSONPointer(), network.tokens)
        case .layers: (network, ["layers"])
        case .networkInputs: (network, ["inputs"])
        case .layer(let index, let part):
            (network, ["layers", String(index)] + (part.map { [Self.name($0)] } ?? []))
        case .data(let set, let part, let row):
            (JSONPointer(), (set == .validation ? ["validation"] : []) + [part == .inputs ? inputs : targets]
                + (batch ? row.map { [String($0)] } ?? [] : []))
        case .loss: (JSONPointer(), ["loss"])
        case .setting(let setting): (JSONPointer(), Self.tokens(setting))
        }
    }

    /// The JSON Pointer to the location.
    func pointer(_ location: Location) -> JSONPointer {
        let (base, tokens) = place(location)
        return JSONPointer(base.tokens + tokens)
    }

    /// The location as a message names it: within its part (`layers[1].weights`, `target[2]`).
    func name(_ location: Location) -> String {
        JSONPointer(place(location).tokens).readable
    }

    private static func name(_ part: Location.LayerPart) -> String {
        switch part {
        case .weights: "weights"
        case .biases: "biases"
        case .activation: "activation"
        case .units: "units"
        }
    }

    private static func tokens(_ setting: Location.Setting) -> [String] {
        switch setting {
        case .epochs: ["epochs"]
        case .learningRate: ["learning_rate"]
        case .batchSize: ["batch_size"]
        case .l1: ["l1"]
        case .l2: ["l2"]
        case .momentum: ["optimizer", "momentum"]
        case .nesterov: ["optimizer", "nesterov"]
        case .beta1: ["optimizer", "beta1"]
        case .beta2: ["optimizer", "beta2"]
        case .epsilon: ["optimizer", "epsilon"]
        case .patience: ["early_stopping", "patience"]
        case .minDelta: ["early_stopping", "min_delta"]
        }
    }
}
