/// Picks the epochs kept in a training history.
///
/// With E ≤ 1,000 configured epochs every epoch is kept; above that, point k
/// (1…1,000) is epoch round(k·E/1000). The last epoch run is always kept, even
/// when training stops early.
struct HistorySampler {
    private(set) var history: History
    private let epochs: Int
    private var nextPoint = 1

    init(epochs: Int, hasValidation: Bool) {
        self.epochs = epochs
        history = History(validationLoss: hasValidation ? [] : nil)
    }

    /// A sampler that goes on after `history`, as recorded at the end of an epoch.
    /// Points are appended in order and `finish` runs only after the last epoch, so
    /// at an epoch's end the next point is always the count recorded plus one.
    init(epochs: Int, resuming history: History) {
        self.epochs = epochs
        self.history = history
        nextPoint = history.epoch.count + 1
    }

    /// The epoch of point k: round(k·E/1000), halves rounded up.
    private func epoch(ofPoint k: Int) -> Int {
        epochs <= 1000 ? k : (2 * k * epochs + 1000) / 2000
    }

    /// Records `epoch` if it is a history point; returns whether it was.
    mutating func record(epoch: Int, loss: Double, validationLoss: Double?) -> Bool {
        guard nextPoint <= min(epochs, 1000), epoch == self.epoch(ofPoint: nextPoint) else { return false }
        nextPoint += 1
        append(epoch: epoch, loss: loss, validationLoss: validationLoss)
        return true
    }

    /// Makes sure the last epoch run is in the history.
    mutating func finish(epoch: Int, loss: Double, validationLoss: Double?) {
        guard epoch > 0, history.epoch.last != epoch else { return }
        append(epoch: epoch, loss: loss, validationLoss: validationLoss)
    }

    private mutating func append(epoch: Int, loss: Double, validationLoss: Double?) {
        history.epoch.append(epoch)
        history.loss.append(loss)
        if let validationLoss { history.validationLoss?.append(validationLoss) }
    }
}
