import BackpropCore

/// A network as a request describes it, before its layers are generated.
struct NetworkWire: Sendable {
    var blueprints: [LayerBlueprint]
    /// Per layer: one unit in the vector shorthand (flat weights, numbers per sample).
    var shorthand: [Bool]
    var inputs: Int?
    var initializer: Initializer
    var seed: UInt64?
    let pointer: JSONPointer
    /// The stored network a reference (`{"name": …}`) named, already fetched.
    var stored: StoredNetwork? = nil

    var hasGeneratedLayers: Bool {
        blueprints.contains { if case .generated = $0 { true } else { false } }
    }

    static let fields: Set<String> = ["inputs", "layers", "init", "seed"]
    static let layerFields: Set<String> = ["weights", "biases", "activation", "units", "bias"]

    init(_ node: Node, networks: ResolvedNetworks = ResolvedNetworks()) throws(Problem) {
        if NetworkReference.isReference(node) {
            let reference = try NetworkReference(node)
            guard let stored = networks[reference] else {
                throw Problem.noSuchNetwork(reference.name, version: reference.version, pointer: node.pointer.appending("name").description)
            }
            self.stored = stored
            pointer = node.pointer
            blueprints = []
            shorthand = stored.shorthand
            inputs = stored.network.inputs
            initializer = .auto
            seed = nil
            return
        }
        let object = try node.object(allowed: Self.fields)
        pointer = node.pointer
        inputs = try object.optional("inputs")?.integer(in: 1...Int(Int32.max))
        initializer = try object.optional("init")?.name(Initializer.self, what: "initializer") ?? .auto
        seed = try object.optional("seed")?.seed()
        let layers = try object.required("layers").elements()
        guard !layers.isEmpty else {
            throw Problem.unprocessable(
                "Invalid network", "network.layers is empty: a network needs at least one layer",
                at: node.pointer.appending("layers"))
        }
        if inputs == nil, layers[0].value["units"] != nil, layers[0].value["weights"] == nil {
            throw Problem.badShape(
                "network.inputs is required when the first layer is generated (it has units, not weights)",
                at: node.pointer.appending("inputs"))
        }
        blueprints = []
        shorthand = []
        for layer in layers {
            let (blueprint, isShorthand) = try Self.layer(layer)
            blueprints.append(blueprint)
            shorthand.append(isShorthand)
        }
    }

    private static func layer(_ node: Node) throws(Problem) -> (LayerBlueprint, Bool) {
        let object = try node.object(allowed: layerFields)
        let activation = try object.optional("activation")?.name(Activation.self, what: "activation") ?? .sigmoid
        switch (object.optional("weights"), object.optional("units")) {
        case (_?, _?):
            throw node.invalid("Invalid layer", "gives both weights and units: a layer is either given or generated")
        case (nil, nil):
            throw Problem.badShape(
                "\(node.pointer.readable) needs weights (a given layer) or units (a generated layer)",
                at: node.pointer.appending("weights"))
        case (nil, let units?):
            if object.has("biases") {
                throw node.invalid("Invalid layer", "gives biases without weights: a generated layer takes \"bias\": true or false")
            }
            let count = try units.integer(in: 1...Int(Int32.max))
            let bias = try object.optional("bias")?.bool() ?? true
            return (.generated(LayerSpec(units: count, activation: activation, bias: bias)), count == 1)
        case (let weightsNode?, nil):
            if object.has("bias") {
                throw node.invalid("Invalid layer", "gives \"bias\" with weights: a given layer takes \"biases\" (numbers)")
            }
            let weights: Matrix, shorthand: Bool
            switch try weightsNode.tensor() {
            case .scalar: throw weightsNode.typeError("an array of numbers or an array of arrays of numbers")
            case .vector(let values):
                weights = Matrix(column: values)
                shorthand = true
            case .matrix(let matrix):
                weights = matrix
                shorthand = false
            }
            var biases: [Double]? = nil
            if let biasNode = object.optional("biases") {
                switch try biasNode.tensor() {
                case .scalar(let value): biases = [value]
                case .vector(let values): biases = values
                case .matrix: throw biasNode.typeError("a number or an array of numbers")
                }
            }
            return (.given(Layer(weights: weights, biases: biases, activation: activation)), shorthand)
        }
    }

    /// The network, its layers generated from the seed (picked here if the request
    /// gave none and a layer is generated). Checks the parameter limit first.
    func build(maximumParameters: Int, defaultSeed: UInt64? = nil) throws(Problem) -> (network: Network, seed: UInt64?) {
        if let stored {
            guard stored.network.parameterCount <= maximumParameters else {
                throw Problem.unprocessable(
                    "Network too large",
                    "the network has \(stored.network.parameterCount) parameters, over this server's limit of \(maximumParameters)",
                    at: pointer)
            }
            return (stored.network, nil)
        }
        do {
            let count = try Network.parameterCount(inputs: inputs, blueprints: blueprints)
            guard let count, count <= maximumParameters else {
                throw Problem.unprocessable(
                    "Network too large",
                    "the network has \(count.map(String.init) ?? "too many") parameters, over this server's limit of \(maximumParameters)",
                    at: pointer)
            }
            let seed = hasGeneratedLayers ? (self.seed ?? defaultSeed ?? Node.randomSeed()) : self.seed
            let network = try Network(
                inputs: inputs, blueprints: blueprints, initializer: initializer, seed: seed ?? 0)
            return (network, hasGeneratedLayers ? seed : nil)
        } catch let error as CoreError {
            throw Problem(error, names: .training(network: pointer))
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(.internalServerError, title: "Internal error", detail: "\(error)")
        }
    }


    /// The network in its wire form, keeping each layer's shorthand.
    func json(_ network: Network) -> JSONValue {
        .object([
            ("layers", .array(zip(network.layers, shorthand).map { layer, scalar in Self.layerJSON(layer, scalar: scalar) }))
        ])
    }

    /// The content to store for `network`, written as this request wrote its layers.
    func content(_ network: Network) -> NetworkContent {
        NetworkContent(network: network, shorthand: shorthand)
    }

    static func layerJSON(_ layer: Layer, scalar: Bool) -> JSONValue {
        var fields: [(key: String, value: JSONValue)] = [("weights", layer.weights.weightsJSON(scalar: scalar))]
        if let biases = layer.biases {
            fields.append(("biases", scalar ? .number(biases[0]) : .numbers(biases)))
        }
        fields.append(("activation", .string(layer.activation.rawValue)))
        return .object(fields)
    }
}
