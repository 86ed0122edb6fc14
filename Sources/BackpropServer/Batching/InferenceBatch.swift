import BackpropCore

/// Inference calls for one stored network version gathered into one matrix product
/// (`InferenceBatcher`): their inputs, stacked in order of arrival, at most the
/// batcher's maximum rows.
struct InferenceBatch: Sendable {
    /// Which calls may share a batch: the same name and version of the same content.
    struct Key: Hashable, Sendable {
        let name: String
        let etag: String

        init(_ stored: StoredNetwork) {
            name = stored.name
            etag = stored.etag
        }
    }

    /// One call's part: its id in the batcher and its samples.
    struct Member: Sendable {
        let caller: Int
        let input: Matrix
    }

    let id: Int
    let stored: StoredNetwork
    /// Raised when every member left before the batch started, to withdraw it from the pool.
    let cancellation = CancellationFlag()
    private(set) var members: [Member] = []
    /// The members' samples in all.
    private(set) var rows = 0
    /// Whether its job is in the pool's queue (it still takes members until it starts).
    var submitted = false

    init(id: Int, stored: StoredNetwork) {
        self.id = id
        self.stored = stored
    }

    var key: Key { Key(stored) }

    mutating func append(_ member: Member) {
        members.append(member)
        rows += member.input.rows
    }

    /// Takes the caller's samples out; false if it is not a member.
    mutating func remove(caller: Int) -> Bool {
        guard let index = members.firstIndex(where: { $0.caller == caller }) else { return false }
        rows -= members.remove(at: index).input.rows
        return true
    }

    /// Each member's outputs, in order: the last layer's rows for its samples.
    ///
    /// One forward pass over the stacked samples; every row of a product is computed
    /// alone, by the same chain of operations whatever the number of rows and the
    /// row's place (`BatchDeterminismTests`), so each member gets the bits it would
    /// get alone. If the pass fails (some member's values overflow), each member is
    /// computed alone instead, for its own answer or error.
    func outputs() -> [Result<Matrix, any Error>] {
        let network = stored.network
        guard members.count > 1 else {
            return members.map { member in Result<Matrix, any Error> { try network.predict(member.input) } }
        }
        var stacked: [Double] = []
        stacked.reserveCapacity(rows * network.inputs)
        for member in members { stacked.append(contentsOf: member.input.storage) }
        do {
            let output = try network.predict(Matrix(rows: rows, columns: network.inputs, storage: stacked))
            let width = output.columns
            var first = 0
            return try members.map { member in
                let count = member.input.rows
                defer { first += count }
                return .success(
                    try Matrix(
                        rows: count, columns: width,
                        storage: Array(output.storage[(first * width)..<((first + count) * width)])))
            }
        } catch {
            return members.map { member in Result<Matrix, any Error> { try network.predict(member.input) } }
        }
    }
}
