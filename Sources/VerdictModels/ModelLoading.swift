import Foundation
import VerdictHub
import VerdictTensor

/// What happened when a checkpoint's tensors were matched to a model's parameters, in the
/// terms `transformers` uses in its load warnings.
public struct LoadReport: Sendable {
    /// Parameters the checkpoint lacked; they were freshly initialised.
    public var missingKeys: [String] = []
    /// Checkpoint tensors the model does not use.
    public var unexpectedKeys: [String] = []
    /// Files read.
    public var files: [String] = []

    public init(missingKeys: [String] = [], unexpectedKeys: [String] = [], files: [String] = []) {
        self.missingKeys = missingKeys; self.unexpectedKeys = unexpectedKeys; self.files = files
    }

    /// The warning `transformers` prints, or nil when everything matched.
    public var warning: String? {
        guard !missingKeys.isEmpty else { return nil }
        return "Some weights were not initialized from the checkpoint and are newly initialized: \(missingKeys.joined(separator: ", ")). "
            + "You should probably TRAIN this model on a down-stream task to be able to use it for predictions and inference."
    }
}

/// Creates an encoder for a config's `model_type`.
public func makeBackbone(_ config: ModelConfig) throws -> any Backbone {
    guard let family = modelFamilies[config.modelType] else {
        throw CheckpointError.unsupportedModel("model_type \"\(config.modelType)\" (supported: \(modelFamilies.keys.sorted().joined(separator: ", ")))")
    }
    return try family(config)
}

/// Every family by `model_type`: encoders, decoders (GPT-2, LLaMA and kin) and mBART.
let modelFamilies: [String: @Sendable (ModelConfig) throws -> any Backbone] = [
    "bert": { BertModel(config: $0) },
    "distilbert": { DistilBertModel(config: $0) },
    "roberta": { RobertaModel(config: $0) },
    "xlm-roberta": { RobertaModel(config: $0) },
    "camembert": { RobertaModel(config: $0) },
    "electra": { try ElectraModel(config: $0) },
    "albert": { try AlbertModel(config: $0) },
    "mpnet": { try MPNetModel(config: $0) },
    "modernbert": { try ModernBertModel(config: $0) },
    "longformer": { try LongformerModel(config: $0) },
    "deberta-v2": { try DebertaV2Model(config: $0) },
    "gpt2": { try Gpt2Model(config: $0) },
    "llama": { try LlamaModel(config: $0) },
    "mistral": { try LlamaModel(config: $0) },
    "qwen2": { try LlamaModel(config: $0) },
    "qwen3": { try LlamaModel(config: $0) },
    "mbart": { try MBartModel(config: $0) },
]

enum ParameterLoader {
    /// A fresh parameter: normal(0, 0.02) weights and embeddings (transformers' default
    /// `initializer_range`; Verdict does not read a config's own), zero biases, norm weights 1.
    static func initialTensor(_ name: String, _ shape: [Int], rng: inout SplitMix64) -> Tensor {
        if name.hasSuffix(".bias") { return Tensor(shape: shape) }
        if ParameterStore.isNormParameter(name) { return Tensor(shape: shape, repeating: 1) }
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in 0.02 * rng.nextGaussian() })
    }

    /// Matches checkpoint tensors to `encoder`'s parameters and the head's `shapes`. A name is
    /// found with or without the encoder prefix (`bert.`), under the names it is tied to
    /// (`Backbone.tiedNames`), and under legacy `LayerNorm.gamma/beta` names; Conv1D weights
    /// (`Backbone.transposedWeights`) are transposed to `[out, in]`. Parameters the checkpoint
    /// lacks are initialised afresh; many more of them than it holds is refused as a config.json
    /// mistake unless `initialisingEverything` says a new model is meant.
    static func load(_ checkpoint: Checkpoint, encoder: any Backbone, headShapes: [(String, [Int])] = [],
                     rng: inout SplitMix64, initialisingEverything: Bool = false) throws -> (ParameterStore, LoadReport) {
        let prefix = encoder.prefix, transposed = encoder.transposedWeights, tied = encoder.tiedNames
        func candidates(_ name: String) -> [String] {
            let names = [name] + (tied[name] ?? [])
            let bare = names.map { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : $0 }
            return names + bare + (names + bare).map(legacy)
        }
        // Before allocating anything: parameters the checkpoint lacks are initialised afresh, which
        // is right for a new head or a few layers, and wrong when config.json's sizes are absurd.
        var missing = 0, firstMissing = ""
        func stored(_ name: String) -> Bool { checkpoint.tensors[name] != nil || checkpoint.quantizedWeights[name] != nil }
        for (name, shape) in encoder.parameterShapes + headShapes where !candidates(name).contains(where: stored) {
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            let (sum, overflow2) = missing.addingReportingOverflow(count)
            missing = overflow || overflow2 ? Int.max : sum
            if firstMissing.isEmpty { firstMissing = name }
        }
        let present = checkpoint.tensors.values.reduce(0) { $0 + $1.count } + checkpoint.quantizedWeights.values.reduce(0) { $0 + $1.columns * $1.depth }
        if !initialisingEverything && missing > max(2 * present, 50_000_000) {
            throw CheckpointError.tensorMismatch(name: firstMissing, reason: "config.json describes \(missing) parameters that the checkpoint (\(present) "
                                                     + "parameters) lacks, starting with this one: check num_hidden_layers and the sizes in config.json")
        }
        var report = LoadReport(files: checkpoint.files.map(\.path))
        var used = Set<String>()
        var p = ParameterStore()
        var quantized: [(String, QuantizedMatrix)] = []
        var everyParameterBFloat16 = !checkpoint.tensors.isEmpty
        for (name, shape) in encoder.parameterShapes + headShapes {
            let candidates = candidates(name)
            if let found = candidates.first(where: { checkpoint.quantizedWeights[$0] != nil }), let matrix = checkpoint.quantizedWeights[found] {
                // Stored in the Linear layout [out, in] whatever the family's own layout.
                guard [matrix.columns, matrix.depth] == shape else {
                    throw CheckpointError.tensorMismatch(name: found, reason: "checkpoint shape \([matrix.columns, matrix.depth]) (int8), model expects \(shape) (check config.json)")
                }
                quantized.append((name, matrix))
                used.formUnion(candidates.filter(stored))
            } else if let found = candidates.first(where: { checkpoint.tensors[$0] != nil }) {
                var t = checkpoint.tensors[found]!
                let stored = transposed.contains(name) ? shape.reversed() : shape
                guard t.shape == stored else {
                    throw CheckpointError.tensorMismatch(name: found, reason: "checkpoint shape \(t.shape), model expects \(stored) (check config.json)")
                }
                if transposed.contains(name) { t = t.transposed() }
                if checkpoint.storedDTypes[found] != .bfloat16 { everyParameterBFloat16 = false }
                p[name] = t
                used.formUnion(candidates.filter { checkpoint.tensors[$0] != nil })
            } else {
                p[name] = initialTensor(name, shape, rng: &rng)
                if !encoder.buffers.contains(name) { report.missingKeys.append(name); everyParameterBFloat16 = false }
            }
        }
        // Installed last: setting a dense tensor afterwards would unpack them again.
        p.install(quantized: quantized, order: (encoder.parameterShapes + headShapes).map(\.0))
        if everyParameterBFloat16 && quantized.isEmpty { p.storedPrecision = .bfloat16 }   // after the last change, which resets it
        report.unexpectedKeys = checkpoint.names.filter { !used.contains($0) && !encoder.ignoresCheckpointTensor($0) }
        return (p, report)
    }

    private static func legacy(_ name: String) -> String {
        name.replacingOccurrences(of: "LayerNorm.weight", with: "LayerNorm.gamma").replacingOccurrences(of: "LayerNorm.bias", with: "LayerNorm.beta")
    }
}

/// Resolves `--model`/`from(pretrained:)` arguments to a local folder: an existing folder, else a
/// Hub model id taken from the cache or downloaded into it (`HubClient`).
public func resolveModelFolder(_ nameOrPath: String) throws -> URL {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    if fm.fileExists(atPath: nameOrPath, isDirectory: &isDirectory), isDirectory.boolValue { return URL(fileURLWithPath: nameOrPath) }
    guard ModelLocation.isRepoId(nameOrPath) else {
        throw CheckpointError.unreadableFile(path: nameOrPath, reason: "no such model folder (and not a Hub model id)")
    }
    do { return try HubClient().snapshot(repo: nameOrPath) } catch {
        throw CheckpointError.unreadableFile(path: nameOrPath, reason: "no such model folder; as a Hub model id: \(error)")
    }
}
