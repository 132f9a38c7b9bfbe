import ArgumentParser
import Foundation
import Verdict
import VerdictCommandSupport

/// `verdict inspect`: architecture, parameters per module, labels and tokenizer of a model.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Describe a model folder.")

    @Option(help: "Model folder or cached Hub id (default: the bundled sentiment model).") var model: String?

    func run() throws {
        try reportingErrors {
            let folder = try resolveModelFolder(try model ?? DefaultModel.path())
            let config = try ModelConfig(folder: folder)
            let classifier = try AutoModelForSequenceClassification.from(pretrained: folder.path)
            let tokenizer = try AutoTokenizer.from(folder: folder)
            print("\(config.architectures.first ?? config.modelType) (\(folder.path))")
            print("  model_type \(config.modelType), layers \(config.numHiddenLayers), hidden \(config.hiddenSize), heads \(config.numAttentionHeads), intermediate \(config.intermediateSize), max tokens \(classifier.encoder.maxSequenceLength)")
            for line in classifier.encoder.summary { print("  " + line) }
            print("  head: " + classifier.head.summary)
            var groups: [(String, Int)] = []
            for name in classifier.parameters.names {
                let parts = name.split(separator: ".")
                let key: String
                if let i = parts.firstIndex(of: "layer"), i + 1 < parts.count { key = parts[...(i + 1)].joined(separator: ".") }
                else { key = parts.dropLast().prefix(2).joined(separator: ".") }
                if let g = groups.firstIndex(where: { $0.0 == key }) { groups[g].1 += classifier.parameters.shape(of: name).reduce(1, *) } else { groups.append((key, classifier.parameters.shape(of: name).reduce(1, *))) }
            }
            for (key, count) in groups { print("  \(key.padding(toLength: 40, withPad: " ", startingAt: 0)) \(count.formatted()) parameters") }
            print("  total \(classifier.parameters.scalarCount.formatted()) parameters")
            print("labels: " + config.labels.enumerated().map { "\($0.offset)=\($0.element)" }.joined(separator: ", ") + (config.problemType.map { " (\($0.rawValue))" } ?? ""))
            print("tokenizer: \(type(of: tokenizer.model)), vocabulary \(tokenizer.vocabSize), max length \(tokenizer.modelMaxLength)")
            print("weights: " + (config.isQuantized ? "int8 Linear layers (\(QuantizedLayout.method)), computes in int8" : "float, computes in float32 (int8 with --dtype int8)"))
            print("kernels: " + KernelInfo.path + " (\(Parallel.threadCount) threads)")
            if let warning = classifier.loadReport.warning { print("note: \(warning)") }
        }
    }
}
