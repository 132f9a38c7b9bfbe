import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport
import VerdictJSON

/// `verdict embed`: sentence embeddings, pooled as the model's sentence-transformers folder says
/// (`FeatureExtractionPipeline`; mean pooling when it says nothing).
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "Sentence embeddings (the model's own pooling, else mean).")

    @Option(help: "Model folder or cached Hub id.") var model: String
    @Flag(help: "L2-normalise each embedding.") var normalize = false
    @Option(help: "Texts per forward pass.") var batchSize: Int = 32
    @Flag(help: "One JSON object per input line.") var json = false
    @OptionGroup var input: TextInput

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
    }

    func run() throws {
        try reportingErrors {
            let embedder = try pipeline(.featureExtraction, model: model)
            let texts = try input.read()
            for start in stride(from: 0, to: texts.count, by: batchSize) {
                let chunk = Array(texts[start..<min(start + batchSize, texts.count)])
                for (text, v) in zip(chunk, try embedder(chunk, normalize: normalize, batchSize: batchSize)) {
                    if json { printJSONLine([("text", .string(text)), ("embedding", .array(v.map { .double(Double($0)) }))]) }
                    else { print(v.map { String(format: "%.6f", $0) }.joined(separator: " ")) }
                }
            }
        }
    }
}
