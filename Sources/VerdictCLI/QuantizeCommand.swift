import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict quantize`: writes an int8 copy of a model (Verdict's layout, docs/Performance.md)
/// that loads memory-mapped and computes in int8 without further flags, or a bfloat16 copy (a
/// plain checkpoint `transformers` loads too) that computes with bfloat16 weights. A folder stays
/// what it was: a classifier stays a classifier, a sentence-transformers model keeps its modules
/// and pooling, a base model gets no head.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize", abstract: "Write an int8 (dynamic quantisation of every Linear layer) or bfloat16 copy of a model.")

    /// The formats a copy can be written in (float32 is what a model folder already holds).
    enum TargetDType: String, ExpressibleByArgument, CaseIterable {
        case int8, bfloat16

        init?(argument: String) { self.init(rawValue: argument == "bf16" ? "bfloat16" : argument) }
    }

    @Option(help: "Model folder or cached Hub id (default: the bundled sentiment model).") var model: String?
    @Option(help: "Folder to write: a new or empty folder, or an earlier output of verdict quantize (replaced once the new copy is complete). Never the input model or a folder holding it.")
    var output: String
    @Option(help: "int8: Verdict's quantised layout; bfloat16 (bf16): every weight rounded to bfloat16, a standard checkpoint.")
    var dtype: TargetDType = .int8

    func run() throws {
        try reportingErrors {
            let folder = try resolveModelFolder(try model ?? DefaultModel.path())
            let out = try OutputFolder.prepare(output, kind: .model, flag: "--output", inputs: [folder]).url
            let classifier = try AutoModelForSequenceClassification.from(pretrained: folder.path)
            // A folder without a trained head (a sentence-transformers or base model) is copied as the base model it is.
            let model: any PretrainedModel = classifier.loadReport.missingKeys.isEmpty ? classifier : try AutoModel.from(pretrained: folder.path)
            let copying = ModelSaving.sentenceTransformersFiles(in: folder)
            let before = model.parameters.scalarCount
            let bytes = { (url: URL) in (try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent("model.safetensors").path)[.size] as? Int) ?? nil }
            let sizes = { (bytes(out).map { ", model.safetensors \(($0 / 1_000_000).formatted()) MB" } ?? "")
                          + (bytes(folder).map { " (was \(($0 / 1_000_000).formatted()) MB)" } ?? "") }
            let what = model is SequenceClassifier ? "" : copying.isEmpty ? " (a base model: no classification head)" : " (a sentence-transformers model: its modules kept)"
            if dtype == .bfloat16 {
                try ModelSaving.save(model, tokenizerFolder: folder, to: out, dtype: .bfloat16, copying: copying)
                print("wrote \(out.path)\(what): \(before.formatted()) parameters in bfloat16" + sizes())
                return
            }
            // Embeddings, norms and biases keep the source's float type (F16 stays F16).
            let source = folder.appendingPathComponent("model.safetensors")
            let dense = (try? SafeTensorsFile(url: source)).flatMap { file in file.names.lazy.compactMap { file.dtype(of: $0) }.first { [.float16, .bfloat16].contains($0) } } ?? .float32
            try ModelSaving.saveQuantized(model, tokenizerFolder: folder, to: out, denseDType: dense, copying: copying)
            let quantized = model.parameters.names.filter { model.parameters.quantizedWeight($0) != nil }.count
            print("wrote \(out.path)\(what): \(quantized) Linear weights int8, \(before.formatted()) parameters" + sizes())
        }
    }
}
