import BackpropCore

/// Reading and checking a request body without HTTP: what the handlers do before
/// they compute, for fuzzing and for library users who want the same errors.
public enum RequestReader {
    public enum Route: String, CaseIterable, Sendable {
        case forward, gradient, train
    }

    /// Parses `body` and reads it as a request to `route`: nil when it is valid,
    /// else the problem the service would answer. With `compute`, also runs
    /// /forward and /gradient (never /train, which may be long).
    public static func check(_ body: [UInt8], route: Route, limits: Limits = Limits(), compute: Bool = false) -> Problem? {
        do {
            let json = try RequestBody.json(body)
            switch route {
            case .forward:
                if compute { _ = try ForwardWire.respond(to: json, limits: limits) }
            case .gradient:
                if compute { _ = try GradientWire.respond(to: json, limits: limits) }
            case .train:
                _ = try TrainWire(json, limits: limits, budget: limits.synchronousTrainingBudget)
            }
            if !compute, route != .train {
                // Reading without computing: the network and the samples.
                let object = try Node(json).object(allowed: route == .forward ? ForwardWire.fields : GradientWire.fields)
                let wire = try NetworkWire(object.required("network"))
                let (network, _) = try wire.build(maximumParameters: limits.maximumParameters)
                _ = try object.required("input").samples(inputs: network.inputs)
            }
            return nil
        } catch let problem as Problem {
            return problem
        } catch {
            return Problem(.internalServerError, title: "Internal error", detail: "\(error)")
        }
    }
}
