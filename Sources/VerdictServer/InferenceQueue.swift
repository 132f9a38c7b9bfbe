import Foundation
import VerdictPipelines
import VerdictTensor
import VerdictTokenizers

/// Runs the model for every request on one worker thread and batches the inputs of concurrent
/// requests together: requests that arrive while a batch runs share the next forward pass.
/// The model already uses every core for one batch, so one worker is enough and keeps memory flat.
/// Unchecked: the pending requests and the worker state are guarded by its lock and condition;
/// the pipeline is only called on the one worker thread.
final class InferenceQueue: @unchecked Sendable {
    /// Where a request's time went, in seconds.
    struct Timing: Sendable {
        var queue: Double
        var inference: Double
    }

    private struct Job {
        let encodings: [Encoding]
        let enqueued: DispatchTime
        let continuation: CheckedContinuation<(logits: [[Float]], timing: Timing), any Error>
    }

    private let pipeline: TextClassificationPipeline
    private let maxBatchInputs: Int
    private let maxQueuedInputs: Int
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var queuedInputs = 0
    private var stopping = false
    private var finished = false
    private let metrics: ServerMetrics

    /// - Parameters:
    ///   - maxBatchInputs: inputs per forward pass, across requests (a larger request runs alone).
    ///   - maxQueuedInputs: inputs waiting at most; beyond it requests are refused as overloaded.
    init(pipeline: TextClassificationPipeline, maxBatchInputs: Int, maxQueuedInputs: Int, metrics: ServerMetrics) {
        self.pipeline = pipeline
        self.maxBatchInputs = max(1, maxBatchInputs)
        self.maxQueuedInputs = max(1, maxQueuedInputs)
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

    /// The logits of `encodings` (each must fit the model), one row per encoding.
    func logits(_ encodings: [Encoding]) async throws -> (logits: [[Float]], timing: Timing) {
        if encodings.isEmpty { return ([], Timing(queue: 0, inference: 0)) }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            if stopping {
                continuation.resume(throwing: ServerError.unavailable("the server is shutting down"))
            } else if queuedInputs + encodings.count > maxQueuedInputs {
                continuation.resume(throwing: ServerError.overloaded(
                    "Model is overloaded: \(queuedInputs) inputs are waiting (at most \(maxQueuedInputs))"))
            } else {
                jobs.append(Job(encodings: encodings, enqueued: .now(), continuation: continuation))
                queuedInputs += encodings.count
                condition.signal()
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
            let logits: Tensor
            do {
                logits = try pipeline.logits(encodings: batch.flatMap(\.encodings))
            } catch {
                // One request the model cannot take (mBART: another number of </s>) must not fail
                // the requests batched with it: run them one by one.
                for job in batch { run([job], start: start) }
                continue
            }
            finish(batch, logits: logits, start: start)
        }
    }

    private func run(_ batch: [Job], start: DispatchTime) {
        do {
            finish(batch, logits: try pipeline.logits(encodings: batch.flatMap(\.encodings)), start: start)
        } catch {
            for job in batch { job.continuation.resume(throwing: ServerError.validation("\(error)", status: .unprocessableContent)) }
        }
    }

    private func finish(_ batch: [Job], logits: Tensor, start: DispatchTime) {
        let end = DispatchTime.now()
        metrics.recordBatch(inputs: logits.shape[0])
        let labels = logits.shape[1]
        var row = 0
        for job in batch {
            var rows: [[Float]] = []
            rows.reserveCapacity(job.encodings.count)
            for _ in job.encodings {
                rows.append(Array(logits.scalars[(row * labels)..<((row + 1) * labels)]))
                row += 1
            }
            let timing = Timing(queue: Self.seconds(job.enqueued, start), inference: Self.seconds(start, end))
            job.continuation.resume(returning: (rows, timing))
        }
    }

    /// Waits for work and takes jobs in arrival order up to `maxBatchInputs` inputs (at least one
    /// job); nil once stopping with nothing left.
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && !stopping { condition.wait() }
        if jobs.isEmpty {
            finished = true
            condition.broadcast()
            return nil
        }
        var batch: [Job] = []
        var inputs = 0
        while let next = jobs.first, batch.isEmpty || inputs + next.encodings.count <= maxBatchInputs {
            batch.append(jobs.removeFirst())
            inputs += next.encodings.count
        }
        queuedInputs -= inputs
        return batch
    }

    private static func seconds(_ from: DispatchTime, _ to: DispatchTime) -> Double {
        Double(to.uptimeNanoseconds &- from.uptimeNanoseconds) / 1e9
    }
}
