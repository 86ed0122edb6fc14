import Foundation

/// A gradient-descent update rule, as PyTorch's `torch.optim.SGD` and `Adam`.
public enum Optimizer: Sendable, Equatable {
    /// Plain or momentum SGD. With momentum μ, the buffer is v ← μ·v + g and the step
    /// is −lr·v, or −lr·(g + μ·v) with Nesterov (PyTorch, dampening 0).
    case sgd(momentum: Double = 0, nesterov: Bool = false)
    /// Adam (Kingma & Ba): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
    /// step −(lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε), t counting updates.
    case adam(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8)

    /// Throws unless the hyperparameters are in range.
    public func validate() throws(CoreError) {
        switch self {
        case .sgd(let momentum, let nesterov):
            guard momentum.isFinite, momentum >= 0, momentum < 1 else {
                throw CoreError(.invalidValue, "\(Location.setting(.momentum)) must be in [0, 1)", at: .setting(.momentum))
            }
            guard !nesterov || momentum > 0 else {
                throw CoreError(.invalidValue, "\(Location.setting(.nesterov)) needs a momentum above 0", at: .setting(.nesterov))
            }
        case .adam(let beta1, let beta2, let epsilon):
            for (setting, beta) in [(Location.Setting.beta1, beta1), (.beta2, beta2)] {
                guard beta.isFinite, beta >= 0, beta < 1 else {
                    throw CoreError(.invalidValue, "\(Location.setting(setting)) must be in [0, 1)", at: .setting(setting))
                }
            }
            guard epsilon.isFinite, epsilon > 0 else {
                throw CoreError(.invalidValue, "\(Location.setting(.epsilon)) must be above 0", at: .setting(.epsilon))
            }
        }
    }
}

/// An optimizer's state for one set of parameters: the update applies in place.
final class OptimizerState {
    let optimizer: Optimizer
    let learningRate: Double
    /// SGD's momentum buffer v, or Adam's first moment m.
    let first: Parameters
    /// Adam's second moment v; nil for SGD.
    let second: Parameters?
    /// Updates applied so far (Adam's t).
    var step = 0

    init(_ optimizer: Optimizer, learningRate: Double, parameters: Parameters) {
        self.optimizer = optimizer
        self.learningRate = learningRate
        first = Parameters(zerosLike: parameters)
        if case .adam = optimizer { second = Parameters(zerosLike: parameters) } else { second = nil }
    }

    /// One update of `parameters` with `gradients` (already including any penalty).
    func update(_ parameters: Parameters, gradients: Parameters) {
        step += 1
        let lr = learningRate
        let targets = parameters.tensors, grads = gradients.tensors, firsts = first.tensors
        let seconds = second?.tensors
        for index in targets.indices {
            let p = targets[index].buffer.pointer, g = grads[index].buffer.pointer
            let m = firsts[index].buffer.pointer, count = targets[index].buffer.count
            switch optimizer {
            case .sgd(let momentum, let nesterov):
                if momentum == 0 {
                    for i in 0..<count { p[i] -= lr * g[i] }
                } else if nesterov {
                    for i in 0..<count {
                        m[i] = momentum * m[i] + g[i]
                        p[i] -= lr * (g[i] + momentum * m[i])
                    }
                } else {
                    for i in 0..<count {
                        m[i] = momentum * m[i] + g[i]
                        p[i] -= lr * m[i]
                    }
                }
            case .adam(let beta1, let beta2, let epsilon):
                let v = seconds![index].buffer.pointer
                let t = Double(step)
                let correction1 = 1 - pow(beta1, t)
                let correction2Root = (1 - pow(beta2, t)).squareRoot()
                let stepSize = lr / correction1
                for i in 0..<count {
                    m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                    p[i] -= stepSize * (m[i] / (v[i].squareRoot() / correction2Root + epsilon))
                }
            }
        }
    }
}
