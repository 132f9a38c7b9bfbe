import Foundation

/// Counters and a latency histogram, served at `/metrics` in the Prometheus text format.
/// Unchecked: every counter and the histogram are read and written under `lock`.
final class ServerMetrics: @unchecked Sendable {
    private let lock = NSLock()
    private var requests: [String: Int] = [:]  // "route status" → count
    private var inputs = 0
    private var tokens = 0
    private var batches = 0
    private var batchedInputs = 0
    private static let bounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    private var durationBuckets = [Int](repeating: 0, count: bounds.count)
    private var durationCount = 0
    private var durationSum = 0.0

    /// One finished request.
    func recordRequest(route: String, status: Int, seconds: Double, inputs: Int = 0, tokens: Int = 0) {
        lock.lock()
        defer { lock.unlock() }
        requests["\(route) \(status)", default: 0] += 1
        self.inputs += inputs
        self.tokens += tokens
        for (i, bound) in Self.bounds.enumerated() where seconds <= bound { durationBuckets[i] += 1 }
        durationCount += 1
        durationSum += seconds
    }

    /// One forward pass of the worker.
    func recordBatch(inputs: Int) {
        lock.lock()
        defer { lock.unlock() }
        batches += 1
        batchedInputs += inputs
    }

    /// The exposition text; `waiting` is the current queue length.
    func render(waiting: Int) -> String {
        lock.lock()
        defer { lock.unlock() }
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ lines: [String]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n" + lines.map { $0 + "\n" }.joined()
        }
        metric("verdict_requests_total", "counter", "HTTP requests by route and status.",
               requests.keys.sorted().map { key in
                   let parts = key.split(separator: " ")
                   return "verdict_requests_total{route=\"\(parts[0])\",status=\"\(parts[1])\"} \(requests[key] ?? 0)"
               })
        metric("verdict_inputs_total", "counter", "Texts (or text pairs) classified.", ["verdict_inputs_total \(inputs)"])
        metric("verdict_tokens_total", "counter", "Tokens of classified inputs.", ["verdict_tokens_total \(tokens)"])
        metric("verdict_batches_total", "counter", "Forward passes run.", ["verdict_batches_total \(batches)"])
        metric("verdict_batched_inputs_total", "counter", "Inputs over all forward passes.", ["verdict_batched_inputs_total \(batchedInputs)"])
        metric("verdict_queue_inputs", "gauge", "Inputs waiting for the model.", ["verdict_queue_inputs \(waiting)"])
        var histogram = zip(Self.bounds, durationBuckets).map { "verdict_request_duration_seconds_bucket{le=\"\($0)\"} \($1)" }
        histogram.append("verdict_request_duration_seconds_bucket{le=\"+Inf\"} \(durationCount)")
        histogram.append("verdict_request_duration_seconds_sum \(durationSum)")
        histogram.append("verdict_request_duration_seconds_count \(durationCount)")
        metric("verdict_request_duration_seconds", "histogram", "Request latency.", histogram)
        return out
    }
}
