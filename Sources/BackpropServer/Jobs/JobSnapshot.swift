import Foundation

/// A job as it stood when read: what GET /train/jobs/{id} shows.
struct JobSnapshot: Sendable {
    var id: String
    var status: Job.Status
    var epoch: Int
    var epochs: Int
    var loss: Double?
    var validationLoss: Double?
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    /// The /train response, once succeeded.
    var result: JSONValue?
    /// The problem, once failed.
    var error: JSONValue?
    /// True once a succeeded job's result was dropped to keep kept results within
    /// the memory budget (GET then answers 410).
    var resultDropped = false

    /// The job document; with `full`, its result or problem.
    func json(full: Bool) -> JSONValue {
        var progress: [(key: String, value: JSONValue)] = [
            ("epoch", .unsigned(UInt64(epoch))), ("epochs", .unsigned(UInt64(epochs))),
        ]
        if let loss { progress.append(("loss", .number(loss))) }
        if let validationLoss { progress.append(("validation_loss", .number(validationLoss))) }
        var fields: [(key: String, value: JSONValue)] = [
            ("id", .string(id)), ("status", .string(status.rawValue)), ("progress", .object(progress)),
            ("created_at", .string(Self.timestamp(createdAt))),
        ]
        if let startedAt { fields.append(("started_at", .string(Self.timestamp(startedAt)))) }
        if let finishedAt { fields.append(("finished_at", .string(Self.timestamp(finishedAt)))) }
        if full, let result { fields.append(("result", result)) }
        if full, let error { fields.append(("error", error)) }
        if resultDropped { fields.append(("result_dropped", .bool(true))) }
        return .object(fields)
    }

    static func timestamp(_ date: Date) -> String { date.ISO8601Format() }

    /// A new job id: 16 hexadecimal digits.
    static func newID() -> String {
        let value = UInt64.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
