import Foundation
import VerdictHub
import VerdictTensor

/// Outputs of a base encoder for one packed batch.
public struct EncoderOutput: Sendable {
    /// `[tokens, hidden]`, packed; `Pooling.padded` gives `[batch, length, hidden]`.
    public var lastHiddenState: Tensor
    /// `[batch, hidden]` (models with a pooler: BERT, ALBERT).
    public var poolerOutput: Tensor?
    /// Sequence boundaries within `lastHiddenState`.
    public var offsets: [Int]
}

/// A base encoder with its weights (`AutoModel` in `transformers`): hidden states, pooler
/// output and sentence embeddings.
///
/// Unchecked Sendable: like `SequenceClassifier`, used by one thread at a time.
public final class TransformerModel: PretrainedModel, @unchecked Sendable {
    public let config: ModelConfig
    public let encoder: any Backbone
    public var parameters: ParameterStore
    public let loadReport: LoadReport

    init(config: ModelConfig, encoder: any Backbone, parameters: ParameterStore, loadReport: LoadReport) {
        self.config = config; self.encoder = encoder; self.parameters = parameters; self.loadReport = loadReport
    }

    /// Runs the encoder (inference: no dropout); throws for ids or positions outside the model's tables.
    public func callAsFunction(_ batch: PackedBatch) throws(ModelInputError) -> EncoderOutput {
        try encoder.validate(batch, parameters)
        var rng: SplitMix64? = nil
        let (hidden, _) = encoder.forward(batch, parameters, rng: &rng, keepCache: false)
        var pooled: Tensor? = nil
        if let pooler = encoder.pooler {
            pooled = Ops.activate(parameters.linear(Pooling.first(hidden, offsets: batch.offsets), pooler), .tanh)
        }
        return EncoderOutput(lastHiddenState: hidden, poolerOutput: pooled, offsets: batch.offsets)
    }

    /// Sentence embeddings: the mean of each sequence's token vectors, L2-normalised when asked
    /// (what sentence-transformers does for all-MiniLM-L6-v2).
    public func embeddings(_ batch: PackedBatch, normalize: Bool = true) throws(ModelInputError) -> Tensor {
        let mean = Pooling.mean(try self(batch).lastHiddenState, offsets: batch.offsets)
        return normalize ? Pooling.l2Normalized(mean) : mean
    }
}

/// Loads base encoders (`AutoModel.from_pretrained`), dispatching on `model_type`.
public enum AutoModel {
    /// The `model_type` values Verdict implements.
    public static var supportedModelTypes: [String] { modelFamilies.keys.sorted() }

    /// Loads from a folder or a cached Hub model id.
    public static func from(pretrained nameOrPath: String) throws -> TransformerModel {
        try KernelPath.checkSetting()
        let folder = try resolveModelFolder(nameOrPath)
        let config = try ModelConfig(folder: folder)
        let encoder = try makeBackbone(config)
        var rng = SplitMix64(seed: 42)
        let (parameters, report) = try ParameterLoader.load(try Checkpoint(folder: folder), encoder: encoder, rng: &rng)
        return TransformerModel(config: config, encoder: encoder, parameters: parameters, loadReport: report)
    }
}
