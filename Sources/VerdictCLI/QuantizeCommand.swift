import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict quantize`: writes an int8 copy of a model (Verdict's layout, docs/Performance.md)
/// that loads memory-mapped and computes in int8 without further flags, or a bfloat16 copy (a
/// plain checkpoint `transformers` loads too) that computes with bfloat16 weights.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize", abstract: "Write an int8 (dynamic quantisation of every Linear layer) or bfloat16 copy of a model.")

    @Option(help: "Model folder or cached Hub id (default: the bundled sentiment model).") var model: String?
    @Option(help: "Folder to write (replaced atomically if it exists).") var output: String
    @Option(help: "int8: Verdict's quantised layout; bfloat16 (bf16): every weight rounded to bfloat16, a standard checkpoint.")
    var dtype: InferencePrecision = .int8

    func validate() throws {
        guard dtype != .float32 else { throw ValidationError("--dtype: int8 or bfloat16 (float32 is what a model folder already holds)") }
    }

    func run() throws {
        try reportingErrors {
            let folder = try resolveModelFolder(try model ?? DefaultModel.path())
            let classifier = try AutoModelForSequenceClassification.from(pretrained: folder.path)
            let before = classifier.parameters.scalarCount
            let out = URL(fileURLWithPath: output)
            let bytes = { (url: URL) in (try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent("model.safetensors").path)[.size] as? Int) ?? nil }
            let sizes = { (bytes(out).map { ", model.safetensors \(($0 / 1_000_000).formatted()) MB" } ?? "")
                          + (bytes(folder).map { " (was \(($0 / 1_000_000).formatted()) MB)" } ?? "") }
            if dtype == .bfloat16 {
                try ModelSaving.save(classifier, tokenizerFolder: folder, to: out, dtype: .bfloat16)
                print("wrote \(out.path): \(before.formatted()) parameters in bfloat16" + sizes())
                return
            }
            // Embeddings, norms and biases keep the source's float type (F16 stays F16).
            let source = folder.appendingPathComponent("model.safetensors")
            let dense = (try? SafeTensorsFile(url: source)).flatMap { file in file.names.lazy.compactMap { file.dtype(of: $0) }.first { [.float16, .bfloat16].contains($0) } } ?? .float32
            try ModelSaving.saveQuantized(classifier, tokenizerFolder: folder, to: out, denseDType: dense)
            let quantized = classifier.parameters.names.filter { classifier.parameters.quantizedWeight($0) != nil }.count
            print("wrote \(out.path): \(quantized) Linear weights int8, \(before.formatted()) parameters" + sizes())
        }
    }
}
