import Hummingbird

/// A stored network's name: 1 to 64 characters of `A–Z a–z 0–9 . _ -`, starting with
/// a letter or digit, so it stands in a URL path as it is.
enum NetworkName {
    static let maximumLength = 64
    static let pattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

    /// `name`, or a 400 problem saying what a name may be.
    static func checked(_ name: String, pointer: String? = nil) throws(Problem) -> String {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumLength, isLetterOrDigit(bytes[0]),
            bytes.allSatisfy({ isLetterOrDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") })
        else {
            throw Problem(
                .badRequest, title: "Invalid network name",
                detail: "a network name is 1 to \(maximumLength) letters, digits, '.', '_' or '-', starting with a letter or digit",
                pointer: pointer)
        }
        return name
    }

    private static func isLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// A version from a path segment: a positive integer, else 400.
    static func version(_ text: String?) throws(Problem) -> Int {
        guard let text, let version = Int(text), version >= 1 else {
            throw Problem(.badRequest, title: "Invalid version", detail: "a network version is a positive integer, not \"\(text ?? "")\"")
        }
        return version
    }
}

extension Problem {
    /// 404: no network of that name (or no such version of it).
    static func noSuchNetwork(_ name: String, version: Int? = nil, pointer: String? = nil) -> Problem {
        Problem(
            .notFound, title: "No such network",
            detail: version.map { "network \"\(name)\" has no version \($0)" } ?? "there is no network named \"\(name)\"",
            pointer: pointer)
    }

    /// 412: `If-Match` named a version that is not the latest.
    static func staleNetwork(_ name: String, latest: String?) -> Problem {
        Problem(
            .preconditionFailed, title: "Precondition failed",
            detail: latest.map { "If-Match does not match network \"\(name)\": its latest version's ETag is \($0)" }
                ?? "If-Match names a version of network \"\(name)\", which has none")
    }

    /// 412: `If-None-Match: *` and the network exists.
    static func networkExists(_ name: String) -> Problem {
        Problem(.preconditionFailed, title: "Precondition failed", detail: "network \"\(name)\" already exists (If-None-Match: *)")
    }

    /// 500, for a state the code does not reach.
    static let internalError = Problem(.internalServerError, title: "Internal error", detail: "an internal invariant failed")

    /// 507: the memory store of networks is full.
    static func networkStoreFull(_ bytes: Int, limit: Int) -> Problem {
        Problem(
            .init(code: 507, reasonPhrase: "Insufficient Storage"), title: "Network store full",
            detail: "storing this network (\(bytes) bytes) would exceed the \(limit) bytes kept for stored networks; delete some, or run with --database-url")
    }
}
