/// A request body as JSON, read the same way by every route.
enum RequestBody {
    /// Parses `bytes`; malformed JSON is the 400 problem with its line and column.
    static func json<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(Problem) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw Problem.malformed(error)
        }
    }
}
