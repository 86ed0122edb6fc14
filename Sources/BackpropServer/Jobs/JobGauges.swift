import Metrics

/// What a job store reports when /metrics is scraped: read first (from the database, for
/// PostgreSQL), then recorded with the scrape's other gauges in one step.
struct JobGauges: Sendable {
    /// Jobs by status (`backprop_jobs{status=…}`).
    var counts: [Job.Status: Int]
    /// PostgreSQL only: `backprop_job_store_reachable`, and `backprop_job_store_queue_depth`
    /// from `counts`.
    var reachable: Bool? = nil

    func record() {
        for status in [Job.Status.queued, .running, .succeeded, .failed, .cancelled] {
            Gauge(label: "backprop_jobs", dimensions: [("status", status.rawValue)]).record(counts[status] ?? 0)
        }
        guard let reachable else { return }
        Gauge(label: "backprop_job_store_queue_depth").record(counts[.queued] ?? 0)
        Gauge(label: "backprop_job_store_reachable").record(reachable ? 1 : 0)
    }
}
