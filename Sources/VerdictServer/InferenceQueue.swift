import Foundation
import VerdictTensor
import VerdictTokenizers

/// Runs the model for every request on one worker thread and batches the inputs of concurrent
/// requests together: requests that arrive while a batch runs share the next forward pass.
/// The model already uses every core for one batch, so one worker is enough and keeps memory flat.
///
/// A batch holds at most `maxBatchInputs` inputs and `maxBatchTokens` tokens (a request larger
/// than either runs alone). When requests are still being tokenized (`announce()`), the worker
/// waits up to `maxBatchWait` for them to join the batch; a lone client never waits.
/// Unchecked: the pending requests and the worker state are guarded by its lock and condition;
/// the model is only called on the one worker thread.
final class InferenceQueue: @unchecked Sendable {
    /// Where a request's time went, in seconds.
    struct Timing: Sendable {
        var queue: Double
        var inference: Double
    }

    /// Limits of the queue (`ServerConfiguration`).
    struct Limits: Sendable {
        var maxBatchInputs: Int
        var maxBatchTokens: Int
        var maxQueuedInputs: Int
        /// Longest wait for requests being tokenized to join a batch, in seconds.
        var maxBatchWait: Double
        /// Longest time a request may wait for the worker, in seconds.
        var requestTimeout: Double
    }

    private struct Job {
        let encodings: [Encoding]
        let tokens: Int
        let enqueued: DispatchTime
        let continuation: CheckedContinuation<(rows: [[Float]], timing: Timing), any Error>
    }

    private let model: ServedModel
    private let limits: Limits
    private let metrics: ServerMetrics
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var queuedInputs = 0
    private var arriving = 0
    private var stopping = false
    private var finished = false
    private var workedSinceRelease = false
    /// Seconds of idleness after which freed memory goes back to the system.
    static let releaseAfterIdle = 0.5

    init(model: ServedModel, limits: Limits, metrics: ServerMetrics) {
        self.model = model
        self.limits = limits
        self.metrics = metrics
        let thread = Thread { [self] in work() }
        thread.name = "verdict-inference"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Inputs waiting for the worker.
    var waitingInputs: Int {
        condition.lock()
        defer { condition.unlock() }
        return queuedInputs
    }

    /// Says a request is on its way (being parsed and tokenized), so a batch about to start may
    /// wait a moment for it. Balance with `rows(_:)` or `withdraw()`.
    func announce() {
        condition.lock()
        arriving += 1
        condition.unlock()
    }

    /// An announced request that will not come (it was refused before reaching the model).
    func withdraw() {
        condition.lock()
        arriving -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// The model's rows for `encodings` (each must fit the model), one per encoding, after
    /// `announce()`. Refused with 429 when the queue is full or the request waited longer than
    /// the request timeout, with 503 once the server is stopping.
    func rows(_ encodings: [Encoding]) async throws -> (rows: [[Float]], timing: Timing) {
        if encodings.isEmpty { withdraw(); return ([], Timing(queue: 0, inference: 0)) }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            arriving -= 1
            condition.broadcast()
            if stopping {
                continuation.resume(throwing: ServerError.unhealthy("the server is shutting down"))
            } else if queuedInputs + encodings.count > limits.maxQueuedInputs {
                continuation.resume(throwing: ServerError.overloaded(
                    "Model is overloaded: \(queuedInputs) inputs are waiting (at most \(limits.maxQueuedInputs))"))
            } else {
                jobs.append(Job(encodings: encodings, tokens: encodings.reduce(0) { $0 + $1.ids.count }, enqueued: .now(), continuation: continuation))
                queuedInputs += encodings.count
            }
        }
    }

    /// Finishes the work already queued, refuses new work and stops the worker.
    func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func work() {
        while let batch = nextBatch() {
            let start = DispatchTime.now()
            let rows: Tensor
            do {
                rows = try model.rows(batch.flatMap(\.encodings), maxBatchTokens: limits.maxBatchTokens)
            } catch {
                // One request the model cannot take (mBART: another number of </s>) must not fail
                // the requests batched with it: run them one by one.
                for job in batch { run([job], start: start) }
                continue
            }
            finish(batch, rows: rows, start: start)
        }
    }

    private func run(_ batch: [Job], start: DispatchTime) {
        do {
            finish(batch, rows: try model.rows(batch.flatMap(\.encodings), maxBatchTokens: limits.maxBatchTokens), start: start)
        } catch {
            for job in batch { job.continuation.resume(throwing: ServerError.backend("Backend error: \(error)")) }
        }
    }

    private func finish(_ batch: [Job], rows: Tensor, start: DispatchTime) {
        let end = DispatchTime.now()
        metrics.recordBatch(inputs: rows.shape[0])
        let width = rows.shape[1]
        var row = 0
        for job in batch {
            var out: [[Float]] = []
            out.reserveCapacity(job.encodings.count)
            for _ in job.encodings {
                out.append(Array(rows.scalars[(row * width)..<((row + 1) * width)]))
                row += 1
            }
            let timing = Timing(queue: Self.seconds(job.enqueued, start), inference: Self.seconds(start, end))
            job.continuation.resume(returning: (out, timing))
        }
    }

    /// Waits for work and takes jobs in arrival order within the batch limits (at least one job),
    /// waiting up to `maxBatchWait` for announced requests; nil once stopping with nothing left.
    /// Jobs that waited longer than the request timeout are refused here.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        var batch: [Job] = []
        var inputs = 0, tokens = 0
        var deadline: Date? = nil
        while true {
            while batch.isEmpty && jobs.isEmpty && !stopping {
                // Idle half a second after work: hand the memory of large batches and bodies back
                // to the system (kept for reuse while busy).
                if workedSinceRelease {
                    if condition.wait(until: Date(timeIntervalSinceNow: Self.releaseAfterIdle)) { continue }
                    condition.unlock()
                    Allocator.releaseFreedMemory()
                    condition.lock()
                    workedSinceRelease = false
                } else {
                    condition.wait()
                }
            }
            if batch.isEmpty && jobs.isEmpty {
                finished = true
                condition.broadcast()
                return nil
            }
            while let next = jobs.first,
                  batch.isEmpty || (inputs + next.encodings.count <= limits.maxBatchInputs && tokens + next.tokens <= limits.maxBatchTokens) {
                jobs.removeFirst()
                queuedInputs -= next.encodings.count
                if Self.seconds(next.enqueued, .now()) > limits.requestTimeout {
                    next.continuation.resume(throwing: ServerError.overloaded(
                        "Model is overloaded: the request waited more than \(limits.requestTimeout) s for the model"))
                    continue
                }
                batch.append(next)
                inputs += next.encodings.count
                tokens += next.tokens
            }
            // Wait for company only while requests are on their way and there is room for them.
            let full = inputs >= limits.maxBatchInputs || tokens >= limits.maxBatchTokens || !jobs.isEmpty
            if batch.isEmpty { continue }
            workedSinceRelease = true
            if full || arriving <= 0 || stopping || limits.maxBatchWait <= 0 { return batch }
            let until = deadline ?? Date(timeIntervalSinceNow: limits.maxBatchWait)
            deadline = until
            if !condition.wait(until: until) { return batch }
        }
    }

    private static func seconds(_ from: DispatchTime, _ to: DispatchTime) -> Double {
        Double(to.uptimeNanoseconds &- from.uptimeNanoseconds) / 1e9
    }
}
