import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict bench-classify`: classification throughput and single-text latency, for comparison
/// with `tools/bench_classify.py` (PyTorch pipeline) on the same machine.
struct BenchClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-classify", abstract: "Time classification of a file (a benchmark, not a test).", shouldDisplay: false)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "CSV/TSV file with a header.") var input: String
    @Option(help: "Text column.") var column: String = "sentence"
    @Option(help: "Use the first N texts.") var limit: Int?
    @Option(help: "Texts per forward pass.") var batchSize: Int = 32
    @Option(help: "Timed repeats (the best is reported).") var repeats: Int = 3
    @Option(help: "Single-sentence calls timed for latency (the best is reported).") var latencyRepeats: Int = 20
    @Flag(help: "Also print where one pass over the file spends its time, per kind of operation.") var profile = false
    @Flag(help: "Skip measuring the FMA peak (the share of it the pass reaches is not printed).") var noPeak = false

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
    }

    func run() throws {
        try reportingErrors {
            let classifier = try pipeline(.textClassification, model: modelOptions.model, precision: modelOptions.dtype)
            var texts = try DelimitedTable(url: URL(fileURLWithPath: input)).column(column)
            if let limit { texts = Array(texts.prefix(limit)) }
            _ = try classifier(Array(texts.prefix(8)))
            var best = Double.infinity
            for _ in 0..<max(1, repeats) {
                let start = Date()
                _ = try classifier(texts, batchSize: batchSize)
                best = min(best, Date().timeIntervalSince(start))
            }
            var latency = Double.infinity
            for _ in 0..<max(1, latencyRepeats) {
                let start = Date()
                _ = try classifier(["I really love this book"])
                latency = min(latency, Date().timeIntervalSince(start))
            }
            let lengths = try classifier.tokenizer.encodeBatch(texts, options: TokenizationOptions(truncation: .longestFirst, maxLength: classifier.maxLength)).map(\.ids.count)
            print(String(format: "verdict: %d texts (%d tokens) in %.3f s: %.1f texts/s; one sentence %.2f ms; threads %d",
                         texts.count, lengths.reduce(0, +), best, Double(texts.count) / best, latency * 1000, Parallel.threadCount))
            if !noPeak {
                // The same arithmetic against the machine's fp32 ceiling (int8 counted as the fp32 work it replaces).
                let flops = ForwardWork.flops(lengths: lengths, config: classifier.model.config)
                let peak = ForwardWork.measuredPeak(int8: false, threads: Parallel.threadCount)
                print(String(format: "work: %.2f GFLOP per pass (a full forward pass as BERT layers); %.1f GFLOP/s, %.1f %% of the fp32 FMA peak %.1f GFLOP/s (%@)",
                             flops / 1e9, flops / best / 1e9, 100 * flops / best / 1e9 / peak, peak, KernelInfo.path))
            }
            if profile { try printProfile(classifier, texts) }
        }
    }

    /// One more pass with `OpProfiler` on: time per kind of operation, as a share of the pass.
    private func printProfile(_ classifier: TextClassificationPipeline, _ texts: [String]) throws {
        let start = Date()
        let encodings = try classifier.encode(texts)
        let tokenizing = Date().timeIntervalSince(start)
        OpProfiler.setEnabled(true)
        defer { OpProfiler.setEnabled(false) }
        let modelStart = Date()
        _ = try classifier.logits(encodings: encodings, batchSize: batchSize)
        let model = Date().timeIntervalSince(modelStart)
        let entries = OpProfiler.entries, total = tokenizing + model
        print("| where the time goes (one pass, \(classifier.model.parameters.precision.rawValue)) | calls | ms | share |")
        print("| --- | --- | --- | --- |")
        print(String(format: "| tokenizing | 1 | %.1f | %.1f %% |", tokenizing * 1000, 100 * tokenizing / total))
        for e in entries { print(String(format: "| %@ | %d | %.1f | %.1f %% |", e.kind.rawValue, e.calls, e.seconds * 1000, 100 * e.seconds / total)) }
        let other = model - entries.reduce(0) { $0 + $1.seconds }
        print(String(format: "| other (head, packing the batch, copies) | | %.1f | %.1f %% |", other * 1000, 100 * other / total))
        print(String(format: "| total | | %.1f | 100 %% |", total * 1000))
    }
}
