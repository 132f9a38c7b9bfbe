import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict quantize`: writes an int8 copy of a model (Verdict's layout, docs/Performance.md)
/// that loads memory-mapped and computes in int8 without further flags.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize", abstract: "Write an int8 copy of a model (dynamic quantisation of every Linear layer).")

    @Option(help: "Model folder or cached Hub id (default: the bundled sentiment model).") var model: String?
    @Option(help: "Folder to write (replaced atomically if it exists).") var output: String

    func run() throws {
        try reportingErrors {
            let folder = try resolveModelFolder(try model ?? DefaultModel.path())
            let classifier = try AutoModelForSequenceClassification.from(pretrained: folder.path)
            let before = classifier.parameters.scalarCount
            let out = URL(fileURLWithPath: output)
            // Embeddings, norms and biases keep the source's float type (F16 stays F16).
            let source = folder.appendingPathComponent("model.safetensors")
            let dense = (try? SafeTensorsFile(url: source)).flatMap { file in file.names.lazy.compactMap { file.dtype(of: $0) }.first { [.float16, .bfloat16].contains($0) } } ?? .float32
            try ModelSaving.saveQuantized(classifier, tokenizerFolder: folder, to: out, denseDType: dense)
            let bytes = { (url: URL) in (try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent("model.safetensors").path)[.size] as? Int) ?? nil }
            let quantized = classifier.parameters.names.filter { classifier.parameters.quantizedWeight($0) != nil }.count
            print("wrote \(out.path): \(quantized) Linear weights int8, \(before.formatted()) parameters"
                  + (bytes(out).map { ", model.safetensors \(($0 / 1_000_000).formatted()) MB" } ?? "")
                  + (bytes(folder).map { " (was \(($0 / 1_000_000).formatted()) MB)" } ?? ""))
        }
    }
}
