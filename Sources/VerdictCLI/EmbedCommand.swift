import ArgumentParser
import Foundation
import Verdict
import VerdictJSON

/// `verdict embed`: mean-pooled sentence embeddings.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "Sentence embeddings (mean pooling).")

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
            let folder = try resolveModelFolder(model)
            let encoder = try AutoModel.from(pretrained: folder.path)
            encoder.parameters.prepareForInference()
            let tokenizer = try AutoTokenizer.from(folder: folder)
            let texts = try input.read()
            let maxLength = min(encoder.encoder.maxSequenceLength, tokenizer.modelMaxLength)
            for start in stride(from: 0, to: texts.count, by: max(1, batchSize)) {
                let chunk = Array(texts[start..<min(start + max(1, batchSize), texts.count)])
                let batch = PackedBatch(encodings: try tokenizer.encodeBatch(chunk, options: TokenizationOptions(truncation: .longestFirst, maxLength: maxLength)), tokenTypes: tokenizer.returnsTokenTypeIds)
                let e = try encoder.embeddings(batch, normalize: normalize)
                let h = e.shape[1]
                for (j, text) in chunk.enumerated() {
                    let v = Array(e.scalars[(j * h)..<((j + 1) * h)])
                    if json { printJSONLine([("text", .string(text)), ("embedding", .array(v.map { .double(Double($0)) }))]) }
                    else { print(v.map { String(format: "%.6f", $0) }.joined(separator: " ")) }
                }
            }
        }
    }
}
