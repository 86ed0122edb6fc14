import Foundation
import NIOConcurrencyHelpers

/// Stored networks in this process's memory, at most `limit` bytes of them (507
/// beyond); nothing survives a restart.
final class MemoryNetworkStore: NetworkStore {
    private struct State {
        /// Each name's versions, oldest first.
        var names: [String: [StoredNetwork]] = [:]
        /// The last version number each name has had, so a deleted version's number is never reused.
        var lastVersion: [String: Int] = [:]
        var bytes = 0
    }

    private let state = NIOLockedValueBox(State())
    let limit: Int
    let budget: MemoryBudget

    /// Holds at most `limit` bytes of networks, each also counted in `budget`.
    init(limit: Int, budget: MemoryBudget) {
        self.limit = limit
        self.budget = budget
    }

    func put(_ name: String, _ content: NetworkContent, precondition: WritePrecondition) throws(Problem) -> StoredNetwork {
        try state.withLockedValue { state -> Result<StoredNetwork, Problem> in
            do throws(Problem) {
                try precondition.check(name, latest: state.names[name]?.last)
            } catch {
                return .failure(error)
            }
            let version = (state.lastVersion[name] ?? 0) + 1
            let stored = StoredNetwork(name: name, version: version, createdAt: Date(), content: content)
            guard state.bytes + stored.bytes <= limit, budget.tryTake(stored.bytes, kind: .networks, small: false) != nil
            else { return .failure(Problem.networkStoreFull(stored.bytes, limit: limit)) }
            state.names[name, default: []].append(stored)
            state.lastVersion[name] = version
            state.bytes += stored.bytes
            return .success(stored)
        }.get()
    }

    func get(_ name: String, version: Int?) -> StoredNetwork? {
        state.withLockedValue { state in
            guard let versions = state.names[name] else { return nil }
            guard let version else { return versions.last }
            return versions.first { $0.version == version }
        }
    }

    func list() -> [StoredNetwork] {
        state.withLockedValue { state in state.names.values.compactMap(\.last).sorted { $0.name < $1.name } }
    }

    func versions(_ name: String) -> [Int] {
        state.withLockedValue { $0.names[name]?.map(\.version) ?? [] }
    }

    func delete(_ name: String, precondition: WritePrecondition) throws(Problem) -> Bool {
        try state.withLockedValue { state -> Result<Bool, Problem> in
            guard let versions = state.names[name] else {
                return precondition.ifMatch != nil ? .failure(Problem.staleNetwork(name, latest: nil)) : .success(false)
            }
            do throws(Problem) {
                try precondition.check(name, latest: versions.last)
            } catch {
                return .failure(error)
            }
            let bytes = versions.reduce(0) { $0 + $1.bytes }
            state.bytes -= bytes
            budget.give(bytes, kind: .networks, fromReserve: 0)
            state.names[name] = nil
            state.lastVersion[name] = nil
            return .success(true)
        }.get()
    }

    func delete(_ name: String, version: Int) -> Bool {
        state.withLockedValue { state in
            guard let index = state.names[name]?.firstIndex(where: { $0.version == version }) else { return false }
            let removed = state.names[name]!.remove(at: index)
            state.bytes -= removed.bytes
            budget.give(removed.bytes, kind: .networks, fromReserve: 0)
            if state.names[name]!.isEmpty { state.names[name] = nil }
            return true
        }
    }
}
