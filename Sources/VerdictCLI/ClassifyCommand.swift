import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport
import VerdictJSON

/// `verdict classify`: labelled scores for texts.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify", abstract: "Classify texts (default model: Verdict's bundled sentiment classifier).")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Labels per text: a number, or 'all'.") var topK: TopK = .one
    // Optional, so that help shows the default as a user writes it ("auto"), not the case's raw value.
    @Option(help: "How logits become scores (default: auto).") var function: ScoreFunction?
    @Option(help: "Texts per forward pass.") var batchSize: Int = 32
    @Flag(help: "One JSON object per input line.") var json = false
    @Flag(help: "Batch mode: read JSON Lines (standard input or --input), write each object back with its prediction added, in input order, streaming.")
    var jsonl = false
    @Option(help: "With --jsonl: the field holding the text.") var textField = "text"
    @Option(help: "With --jsonl: the field added to each object.") var outputField = "prediction"
    @Option(help: "With --jsonl: classify only shard I of N (0-based): the non-blank lines k with k % N == I.") var shard: Shard = .whole
    @Flag(help: "With --jsonl: report an invalid line on standard error and go on (default: stop with an error).") var skipInvalid = false
    @OptionGroup var input: TextInput

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
        if jsonl {
            guard input.texts.isEmpty, input.column == nil else { throw ValidationError("--jsonl reads JSON Lines from standard input or --input (the text field is --text-field), not texts given as arguments or --column") }
            guard !json else { throw ValidationError("--json and --jsonl cannot be combined: --jsonl already writes JSON") }
        } else if shard != .whole || textField != "text" || outputField != "prediction" || skipInvalid {
            throw ValidationError("--shard, --text-field, --output-field and --skip-invalid need --jsonl")
        }
    }

    func run() throws {
        try reportingErrors {
            let classifier = try pipeline(.textClassification, model: modelOptions.model, precision: modelOptions.dtype)
            if jsonl {
                let batch = JSONLinesClassification(classifier: classifier, textField: textField, outputField: outputField, shard: shard,
                                                    topK: topK, function: function ?? .automatic, batchSize: batchSize, skipInvalid: skipInvalid)
                try batch.run(input: try input.input.map(LineReader.init(path:)) ?? LineReader(), output: .standardOutput)
                return
            }
            try input.forEachChunk(batchSize) { texts in
                let results = try classifier(texts, topK: topK, functionToApply: function ?? .automatic, batchSize: batchSize)
                for (text, scores) in zip(texts, results) {
                    if json {
                        printJSONLine([("text", .string(text)), ("labels", .array(scores.map { .object([("label", .string($0.label)), ("score", .double(Double($0.score)))]) }))])
                    } else {
                        print(scores.map(\.description).joined(separator: ", ") + "\t" + text)
                    }
                }
            }
        }
    }
}
