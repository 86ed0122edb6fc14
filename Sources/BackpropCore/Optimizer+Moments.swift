/// Which moment buffers an optimizer reads, so checkpoints store only those.
extension Optimizer {
    /// True when the optimizer reads its first-moment buffer (all but plain SGD).
    var usesFirstMoments: Bool {
        if case .sgd(let momentum, _) = self { return momentum != 0 }
        return true
    }

    /// True when the optimizer keeps second moments (Adam).
    var usesSecondMoments: Bool {
        if case .adam = self { return true }
        return false
    }
}
