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
    @Flag(inversion: .prefixedNo, help: "L2-normalise each embedding (default: as the folder's modules.json says, with its Normalize module).")
    var normalize: Bool?
    @Option(help: "Texts per forward pass.") var batchSize: Int = 32
    @Flag(help: "One JSON object per input line.") var json = false
    @OptionGroup var input: TextInput

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
    }

    func run() throws {
        try reportingErrors {
            let embedder = try pipeline(.featureExtraction, model: model)
            try input.forEachChunk(batchSize) { texts in
                for (text, v) in zip(texts, try embedder(texts, normalize: normalize, batchSize: batchSize)) {
                    if json { printJSONLine([("text", .string(text)), ("embedding", .array(v.map { .double(Double($0)) }))]) }
                    else { print(v.map { String(format: "%.6f", $0) }.joined(separator: " ")) }
                }
            }
        }
    }
}
