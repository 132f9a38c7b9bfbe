import ArgumentParser
import Foundation
import Verdict
import VerdictJSON

/// `verdict classify`: labelled scores for texts.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify", abstract: "Classify texts (default model: Verdict's bundled sentiment classifier).")

    @Option(help: "Model folder or cached Hub id (default: the bundled sentiment model).") var model: String?
    @Option(help: "Number format of the Linear layers: float32 or int8 (dynamic quantisation); default: the checkpoint's own.") var dtype: InferencePrecision?
    @Option(help: "Labels per text: a number, or 'all'.") var topK: String = "1"
    @Option(help: "auto, softmax, sigmoid or none.") var function: String = "auto"
    @Option(help: "Texts per forward pass.") var batchSize: Int = 32
    @Flag(help: "One JSON object per input line.") var json = false
    @OptionGroup var input: TextInput

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1 (got \(batchSize))") }
    }

    func run() throws {
        try reportingErrors {
            let topK: TopK
            if self.topK == "all" { topK = .all } else if let k = Int(self.topK), k > 0 { topK = k == 1 ? .one : .k(k) } else {
                throw ValidationError("--top-k must be a positive number or 'all'")
            }
            let function: ScoreFunction = self.function == "auto" ? .automatic : try ScoreFunction(rawValue: self.function).orThrow(ValidationError("unknown --function \(self.function)"))
            let classifier = try pipeline(.textClassification, model: model, precision: dtype)
            let texts = try input.read()
            let results = try classifier(texts, topK: topK, functionToApply: function, batchSize: batchSize)
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

extension Optional {
    func orThrow(_ error: Error) throws -> Wrapped {
        guard let self else { throw error }
        return self
    }
}
