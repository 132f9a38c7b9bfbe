import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict bench-train`: training steps per second at a fixed batch size and sequence length
/// (forward, backward, clipping and AdamW), for comparison with `tools/bench_train.py`.
struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-train", abstract: "Time training steps (a benchmark, not a test).", shouldDisplay: false)

    @Option(help: "Base model folder.") var model: String
    @Option(help: "Examples per step.") var batchSize: Int = 16
    @Option(help: "Tokens per example (including [CLS] and [SEP]).") var seqLen: Int = 128
    @Option(help: "Timed steps (after one warm-up step).") var steps: Int = 10

    func validate() throws {
        guard batchSize >= 1, seqLen >= 2, steps >= 1 else {
            throw ValidationError("--batch-size and --steps must be at least 1, --seq-len at least 2 (got \(batchSize), \(steps), \(seqLen))")
        }
    }

    func run() throws {
        try reportingErrors {
            let classifier = try AutoModelForSequenceClassification.from(pretrained: try resolveModelFolder(model).path, labels: ["NEGATIVE", "POSITIVE"])
            var ids = SplitMix64(seed: 1)
            let vocab = classifier.config.vocabSize
            let sequences = (0..<batchSize).map { _ in [101] + (0..<(seqLen - 2)).map { _ in 1000 + Int(ids.next() % UInt64(max(1, vocab - 1000))) } + [102] }
            let batch = PackedBatch(sequences: sequences)
            let labels = (0..<batchSize).map { $0 % 2 }
            let names = classifier.trainableNames
            var optimizer = AdamW(parameters: classifier.parameters, names: names, weightDecay: 0.01)
            var dropout: SplitMix64? = SplitMix64(seed: 2)
            var grads = classifier.parameters.zeros()
            // The Trainer's step: gradients zeroed in place, forward, backward, clipping, AdamW.
            func step() throws {
                grads.zeroAll()
                let (logits, cache) = try classifier.forward(batch, rng: &dropout, keepCache: true)
                let (_, dLogits) = Loss.crossEntropy(logits, labels)
                classifier.backward(dLogits, cache: cache!, batch: batch, grads: &grads)
                clipGradientNorm(&grads, names: names, maxNorm: 1)
                optimizer.update(&classifier.parameters, gradients: grads, lr: 5e-5)
            }
            try step()
            let start = Date()
            for _ in 0..<steps { try step() }
            let seconds = Date().timeIntervalSince(start)
            print(String(format: "verdict: batch %d x %d tokens, %d steps in %.2f s: %.1f samples/s (%.0f ms/step), threads %d",
                         batchSize, seqLen, steps, seconds, Double(steps * batchSize) / seconds, seconds / Double(steps) * 1000, Parallel.threadCount))
        }
    }
}
