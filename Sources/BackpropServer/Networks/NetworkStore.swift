/// Where stored networks live: `MemoryNetworkStore` (the default) or
/// `PostgresNetworkStore` (with `--database-url`, shared by every replica).
/// Versions of a name count up from 1; each is immutable once stored.
protocol NetworkStore: Sendable {
    /// Stores `content` as the next version of `name`. `precondition` is the request's
    /// `If-Match` / `If-None-Match`; a mismatch throws 412.
    func put(_ name: String, _ content: NetworkContent, precondition: WritePrecondition) async throws(Problem) -> StoredNetwork
    /// The version (the latest when nil), or nil if there is none.
    func get(_ name: String, version: Int?) async throws(Problem) -> StoredNetwork?
    /// The latest version of every name, by name.
    func list() async throws(Problem) -> [StoredNetwork]
    /// Every version number of `name`, oldest first; empty if there is no such name.
    func versions(_ name: String) async throws(Problem) -> [Int]
    /// Deletes every version of `name` (`precondition` against the latest); false if there was none.
    func delete(_ name: String, precondition: WritePrecondition) async throws(Problem) -> Bool
    /// Deletes one version; false if there was none.
    func delete(_ name: String, version: Int) async throws(Problem) -> Bool
}

/// A write's condition, from `If-Match` and `If-None-Match` (RFC 9110 §13.1).
struct WritePrecondition: Sendable, Equatable {
    /// `If-Match`: the ETags one of which the latest version must have (`*`: any version).
    var ifMatch: [String]? = nil
    /// `If-None-Match: *`: the name must not exist yet.
    var ifNoneMatchAny = false

    static let none = WritePrecondition()

    /// Throws 412 unless the latest version (nil: none) satisfies the condition.
    func check(_ name: String, latest: StoredNetwork?) throws(Problem) {
        try check(name, latestETag: latest?.etag)
    }

    /// The same, given only the latest version's ETag (nil: no version).
    func check(_ name: String, latestETag: String?) throws(Problem) {
        if ifNoneMatchAny, latestETag != nil { throw Problem.networkExists(name) }
        guard let ifMatch else { return }
        guard let latestETag else { throw Problem.staleNetwork(name, latest: nil) }
        if ifMatch.contains("*") || ifMatch.contains(latestETag) { return }
        throw Problem.staleNetwork(name, latest: latestETag)
    }
}
