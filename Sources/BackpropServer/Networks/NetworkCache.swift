import NIOConcurrencyHelpers

/// Parsed versions of stored networks kept by one replica, so a hot network is
/// parsed once, not at every request: at most `limit` bytes, least recently used
/// dropped first, every byte counted in the memory budget (kind `.networks`).
///
/// An entry is keyed by name, version and ETag. A version never changes once
/// stored, and its ETag hashes its JSON, so an entry is never stale: a name deleted
/// and stored again reuses version numbers, but not their ETags. Which version is the
/// latest, and whether a version still exists, is always asked of the database; the
/// cache only spares the parse, and `keep` frees what was deleted.
final class NetworkCache: Sendable {
    struct Key: Hashable, Sendable {
        var name: String
        var version: Int
        var etag: String
    }

    private struct Entry {
        var stored: StoredNetwork
        var bytes: Int
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    let limit: Int
    let budget: MemoryBudget
    private let state = NIOLockedValueBox(State())

    init(limit: Int, budget: MemoryBudget) {
        self.limit = limit
        self.budget = budget
    }

    /// The cached version, marked as just used.
    func get(_ key: Key) -> StoredNetwork? {
        state.withLockedValue { state in
            guard var entry = state.entries[key] else { return nil }
            state.clock += 1
            entry.lastUse = state.clock
            state.entries[key] = entry
            return entry.stored
        }
    }

    /// Keeps `stored`, dropping the least recently used to make room; not kept if it
    /// is larger than the whole cache or the budget has no room.
    func insert(_ stored: StoredNetwork) {
        let key = Key(name: stored.name, version: stored.version, etag: stored.etag)
        let bytes = stored.bytes
        guard bytes <= limit else { return }
        state.withLockedValue { state in
            guard state.entries[key] == nil else { return }
            while state.bytes + bytes > limit, let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                remove(oldest.key, from: &state)
            }
            guard budget.tryTake(bytes, kind: .networks, small: false) != nil else { return }
            state.clock += 1
            state.entries[key] = Entry(stored: stored, bytes: bytes, lastUse: state.clock)
            state.bytes += bytes
        }
    }

    /// Drops the versions of `name` not in `versions` (every one of them when nil).
    func keep(_ name: String, only versions: Set<Int>?) {
        state.withLockedValue { state in
            for key in state.entries.keys where key.name == name && !(versions?.contains(key.version) ?? false) {
                remove(key, from: &state)
            }
        }
    }

    /// Drops one entry (a version found deleted, or stored again with another ETag).
    func remove(_ name: String, version: Int) {
        state.withLockedValue { state in
            for key in state.entries.keys where key.name == name && key.version == version { remove(key, from: &state) }
        }
    }

    /// The names that have cached versions.
    var names: Set<String> { state.withLockedValue { Set($0.entries.keys.map(\.name)) } }

    /// Bytes held (and counted in the budget).
    var bytes: Int { state.withLockedValue { $0.bytes } }

    var count: Int { state.withLockedValue { $0.entries.count } }

    private func remove(_ key: Key, from state: inout State) {
        guard let entry = state.entries.removeValue(forKey: key) else { return }
        state.bytes -= entry.bytes
        budget.give(entry.bytes, kind: .networks, fromReserve: 0)
    }
}
