import NIOConcurrencyHelpers

/// The part of the memory budget one request holds, from the first byte of its body
/// to the last byte of its answer: taken before the body is read, resized to the
/// answer once it is computed, given back when the answer is written (or the
/// connection is gone, when the last reference goes).
final class MemoryReservation: Sendable {
    let budget: MemoryBudget

    private struct Holding {
        var kind: MemoryBudget.Kind
        var bytes = 0
        var fromReserve = 0
    }

    private let holding: NIOLockedValueBox<Holding>

    init(budget: MemoryBudget, kind: MemoryBudget.Kind) {
        self.budget = budget
        holding = NIOLockedValueBox(Holding(kind: kind))
    }

    deinit { release() }

    var bytes: Int { holding.withLockedValue { $0.bytes } }

    /// Takes `bytes` more: at once if they fit (from the small reserve when the holding
    /// stays small), else after the large reservations before it, as room frees.
    /// False if there was no room by `deadline`.
    func acquire(_ bytes: Int, until deadline: ContinuousClock.Instant) async -> Bool {
        guard bytes > 0 else { return true }
        let (kind, small) = holding.withLockedValue { ($0.kind, $0.bytes + bytes <= budget.smallLimit) }
        if let fromReserve = budget.tryTake(bytes, kind: kind, small: small) {
            add(bytes, fromReserve: fromReserve)
            return true
        }
        guard await budget.waitToTake(bytes, kind: kind, until: deadline) else { return false }
        add(bytes, fromReserve: 0)
        return true
    }

    private func add(_ bytes: Int, fromReserve: Int) {
        holding.withLockedValue { holding in
            holding.bytes += bytes
            holding.fromReserve += fromReserve
        }
    }

    /// Holds exactly `bytes` of `kind` from now on (never refused: what was computed is kept).
    func resize(to bytes: Int, as kind: MemoryBudget.Kind) {
        holding.withLockedValue { holding in
            holding.fromReserve = budget.exchange(
                holding.bytes, kind: holding.kind, fromReserve: holding.fromReserve, for: bytes, of: kind)
            holding.bytes = bytes
            holding.kind = kind
        }
    }

    /// Holds exactly `bytes` of `kind` from now on if that fits the budget; false, and
    /// nothing changed, if not.
    func resizeIfFits(to bytes: Int, as kind: MemoryBudget.Kind) -> Bool {
        holding.withLockedValue { holding in
            guard
                let kept = budget.exchangeIfFits(
                    holding.bytes, kind: holding.kind, fromReserve: holding.fromReserve, for: bytes, of: kind)
            else { return false }
            holding.fromReserve = kept
            holding.bytes = bytes
            holding.kind = kind
            return true
        }
    }

    /// Gives everything back (again: nothing).
    func release() {
        let given = holding.withLockedValue { holding -> Holding in
            defer { holding.bytes = 0; holding.fromReserve = 0 }
            return holding
        }
        budget.give(given.bytes, kind: given.kind, fromReserve: given.fromReserve)
    }
}
