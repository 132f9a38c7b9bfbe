import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict bench-scaling`: throughput and memory against batch size and sequence length, with
/// the share of time in attention and in the dense layers (docs/Performance.md).
struct BenchScalingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-scaling", abstract: "Time the model across batch sizes and sequence lengths (a benchmark, not a test).", shouldDisplay: false)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Batch sizes, comma-separated.") var batchSizes = "1,8,32,64"
    @Option(help: "Sequence lengths in tokens, comma-separated.") var lengths = "32,128,512"
    @Option(help: "Seconds to spend per configuration (at least one batch runs).") var seconds = 1.0

    func run() throws {
        try reportingErrors {
            let classifier = try pipeline(.textClassification, model: modelOptions.model, precision: modelOptions.dtype)
            let batches = batchSizes.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
            let lengths = lengths.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 && $0 <= classifier.maxLength }
            let vocabulary = classifier.model.config.vocabSize
            print("model \(classifier.model.config.modelType), \(classifier.model.config.numHiddenLayers) layers, hidden \(classifier.model.config.hiddenSize); "
                  + "\(classifier.model.parameters.precision.rawValue); \(Parallel.threadCount) threads")
            print("| batch | tokens per text | texts/s | ms per batch | ms per 1k tokens | attention | dense (Linear) | other | peak RSS so far, MB |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            for length in lengths {
                for batch in batches {
                    // Synthetic ids (every id is a valid row of the embedding table); speed does not depend on them.
                    let sequences = (0..<batch).map { b in (0..<length).map { 1000 &+ (b &* 7919 &+ $0 &* 104729) % max(1, vocabulary - 1000) } }
                    let input = PackedBatch(sequences: sequences.map { $0.map { $0 % vocabulary } })
                    _ = try classifier.model.logits(input)
                    OpProfiler.setEnabled(true)
                    var runs = 0
                    let start = Date()
                    repeat { _ = try classifier.model.logits(input); runs += 1 } while Date().timeIntervalSince(start) < seconds
                    let elapsed = Date().timeIntervalSince(start)
                    let entries = OpProfiler.entries
                    OpProfiler.setEnabled(false)
                    let share = { (kinds: [OpProfiler.Kind]) in entries.filter { kinds.contains($0.kind) }.reduce(0) { $0 + $1.seconds } / elapsed }
                    let attention = share([.attention]), dense = share([.linearFloat32, .linearInt8, .linearBFloat16])
                    let perBatch = elapsed / Double(runs)
                    print(String(format: "| %d | %d | %.1f | %.2f | %.2f | %.0f %% | %.0f %% | %.0f %% | %d |", batch, length, Double(batch) / perBatch,
                                 perBatch * 1000, perBatch * 1000 / Double(batch * length) * 1000, 100 * attention, 100 * dense,
                                 100 * max(0, 1 - attention - dense), peakResidentMegabytes()))
                }
            }
        }
    }

    /// The process's peak resident set (getrusage), in MB.
    private func peakResidentMegabytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return Int(usage.ru_maxrss) / 1024   // kilobytes on Linux
        #else
        return Int(usage.ru_maxrss) / (1024 * 1024)   // bytes on macOS
        #endif
    }
}
