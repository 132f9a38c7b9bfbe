import Foundation
import VerdictHub
import VerdictTensor
import VerdictTokenizers

/// An encoder with a classification head (`AutoModelForSequenceClassification`): the family's
/// own head (see `Backbone.classificationHead(labels:)`), or the custom head of
/// `config.customHead`: `classifier.out_proj(Dropout(ReLU(classifier.dense(pool(h)))))` with
/// `[CLS]`, mean or pooler pooling.
///
/// Forward and backward live side by side; the backward pass accumulates gradients under the
/// same names as `parameters`.
///
/// Unchecked Sendable: a model can move between threads (a server hands it to its worker) but is
/// used by one thread at a time: `parameters` are mutable (training, `prepareForInference`); the
/// kernels parallelise inside each forward and backward pass.
public final class SequenceClassifier: PretrainedModel, @unchecked Sendable {
    public var config: ModelConfig
    public let encoder: any Backbone
    public var parameters: ParameterStore
    public let loadReport: LoadReport
    /// The classification head (the family's, or the custom head of `config.customHead`).
    public let head: ClassificationHead

    public init(config: ModelConfig, encoder: any Backbone, parameters: ParameterStore, loadReport: LoadReport = LoadReport()) {
        self.config = config; self.encoder = encoder; self.parameters = parameters; self.loadReport = loadReport
        head = Self.head(config, encoder: encoder)
    }

    /// The head `config` asks for: the custom head when there is one, else the family's.
    static func head(_ config: ModelConfig, encoder: any Backbone) -> ClassificationHead {
        guard let custom = config.customHead else { return encoder.classificationHead(labels: config.numLabels) }
        let h = config.hiddenSize
        var steps: [ClassificationHead.Step] = []
        if custom.pooling == .pooler, let pooler = encoder.pooler { steps = [.linear(pooler, inputs: h, outputs: h), .activation(.tanh)] }
        steps += ClassificationHead.mlp(hidden: "classifier.dense", out: "classifier.out_proj", inputs: h, width: custom.hiddenWidth,
                                        labels: config.numLabels, dropout: custom.dropout)
        // `cls` means the family's own sequence token: the first for encoders, the last for decoders.
        var token = encoder.classificationHead(labels: config.numLabels).pooling
        if token == .mean { token = .first }
        return ClassificationHead(pooling: custom.pooling == .mean ? .mean : token, steps: steps)
    }

    /// Names and shapes of the head's own parameters (a pooler belongs to the encoder).
    static func headShapes(_ head: ClassificationHead, encoder: any Backbone) -> [(String, [Int])] {
        let encoderNames = Set(encoder.parameterShapes.map(\.0))
        return head.shapes.filter { !encoderNames.contains($0.0) }
    }

    /// Activations for the backward pass.
    public struct Cache {
        var encoder: BackboneCache
        var head: ClassificationHead.Cache
    }

    /// Logits `[batch, numLabels]`. Pass a generator to apply dropout (training). Throws for a
    /// batch the model cannot take (ids or positions outside its tables, a batch the head cannot
    /// pool: see `ModelInputError`), before any work is done.
    public func forward(_ batch: PackedBatch, rng: inout SplitMix64?, keepCache: Bool = false) throws(ModelInputError) -> (Tensor, Cache?) {
        let batch = encoder.classifierGlobalAttention ? batch.withGlobalAttentionOnFirstTokens() : batch
        try encoder.validate(batch, parameters)
        let rows = try head.pooledRows(batch)
        // The head reads one row per sequence: the encoder's last layer computes only those when it can.
        var (hidden, encoderCache): (Tensor, BackboneCache?), pooledRows = rows
        if let rows, let pooled = encoder.forward(batch, parameters, onlyRows: rows, rng: &rng, keepCache: keepCache) {
            (hidden, encoderCache) = pooled
            pooledRows = Array(rows.indices)
        } else {
            (hidden, encoderCache) = encoder.forward(batch, parameters, rng: &rng, keepCache: keepCache)
        }
        let (logits, headCache) = head.forward(hidden, rows: pooledRows, batch: batch, parameters, rng: &rng)
        guard keepCache, let encoderCache else { return (logits, nil) }
        return (logits, Cache(encoder: encoderCache, head: headCache))
    }

    /// Accumulates the gradients of every parameter given `dLogits`.
    public func backward(_ dLogits: Tensor, cache c: Cache, batch: PackedBatch, grads: inout ParameterStore) {
        let batch = encoder.classifierGlobalAttention ? batch.withGlobalAttentionOnFirstTokens() : batch
        let dHidden = head.backward(dLogits, cache: c.head, batch: batch, parameters, grads: &grads)
        encoder.backward(dHidden, cache: c.encoder, batch: batch, parameters, grads: &grads)
    }

    /// Inference logits (no dropout). A batch of more than `maxTokensPerPass` tokens runs as
    /// consecutive parts of at most that many tokens (a part holds at least one sequence), so its
    /// activations stay in cache and the cost per token does not grow with the batch; the logits
    /// are the same, since no sequence's logits depend on another's.
    public func logits(_ batch: PackedBatch, maxTokensPerPass: Int = SequenceClassifier.defaultMaxTokensPerPass) throws(ModelInputError) -> Tensor {
        var rng: SplitMix64? = nil
        let parts = batch.partitioned(maxTokens: maxTokensPerPass)
        guard parts.count > 1 else { return try forward(batch, rng: &rng).0 }
        // The whole batch is checked before any part runs, as one pass would check it.
        try encoder.validate(batch, parameters)
        _ = try head.pooledRows(batch)
        var scalars: [Float] = []
        scalars.reserveCapacity(batch.sequenceCount * config.numLabels)
        for part in parts { scalars += try forward(batch.sequences(part), rng: &rng).0.scalars }
        return Tensor(shape: [batch.sequenceCount, scalars.count / max(1, batch.sequenceCount)], scalars: scalars)
    }

    /// The token budget of one inference pass (`logits(_:maxTokensPerPass:)`): 8 texts of 512
    /// tokens. Larger passes run slower per token (docs/Performance.md, "Scaling").
    public static let defaultMaxTokensPerPass = 4096

    /// The most sequences one batch may hold: 1 for a decoder without `pad_token_id` (as in
    /// `transformers`), otherwise unlimited.
    public var maxBatchSequences: Int? { head.pooling == .lastNonPadding(nil) ? 1 : nil }

    /// The parameters that are trained (everything except constant buffers).
    public var trainableNames: [String] { parameters.names.filter { !encoder.buffers.contains($0) } }
}

/// Loads classifiers the way `AutoModelForSequenceClassification.from_pretrained` does.
public enum AutoModelForSequenceClassification {
    /// A new model with every weight initialised afresh (`from_config`): the architecture of
    /// `config` with none of a checkpoint's knowledge. `seed` makes the initialisation repeatable.
    public static func from(config: ModelConfig, seed: UInt64 = 42) throws -> SequenceClassifier {
        try KernelPath.checkSetting()
        var config = config
        let encoder = try makeBackbone(config)
        config.architectures = [encoder.classifierArchitecture]
        let headShapes = SequenceClassifier.headShapes(SequenceClassifier.head(config, encoder: encoder), encoder: encoder)
        var rng = SplitMix64(seed: seed)
        let (parameters, report) = try ParameterLoader.load(.empty, encoder: encoder, headShapes: headShapes, rng: &rng, initialisingEverything: true)
        return SequenceClassifier(config: config, encoder: encoder, parameters: parameters, loadReport: report)
    }

    /// Loads from a folder or a cached Hub model id. `labels` replaces the config's labels (a new
    /// head is then initialised when the count differs); `head` asks for a custom head;
    /// `padTokenId` is used when the config has none (decoders, which read the score at the last
    /// token that is not padding: the recipe's `model.config.pad_token_id = tokenizer.pad_token_id`).
    public static func from(pretrained nameOrPath: String, labels: [String]? = nil, problemType: ProblemType? = nil,
                            head: ClassifierHeadConfig? = nil, padTokenId: Int? = nil, seed: UInt64 = 42) throws -> SequenceClassifier {
        try KernelPath.checkSetting()
        let folder = try resolveModelFolder(nameOrPath)
        var config = try ModelConfig(folder: folder)
        if let padTokenId, !config.hasPadTokenId { config.setPadTokenId(padTokenId) }
        var checkpoint = try Checkpoint(folder: folder)
        let encoder = try makeBackbone(config)
        let savedHead = SequenceClassifier.head(config, encoder: encoder), savedCustomHead = config.customHead
        if let labels { config.labels = labels }
        if let problemType { config.problemType = problemType }
        if let head { config.customHead = head }
        if head?.pooling == .pooler && encoder.pooler == nil {
            throw CheckpointError.unsupportedModel("model_type \"\(config.modelType)\" with pooler pooling (it has no pooler; use cls or mean)")
        }
        // Head tensors that no longer fit (another number of labels, another head) are set aside
        // and start afresh, as `ignore_mismatched_sizes` does; so are those of a replaced head.
        let newHead = SequenceClassifier.head(config, encoder: encoder)
        let newShapes = SequenceClassifier.headShapes(newHead, encoder: encoder)
        var stale = Set(newShapes.filter { name, shape in checkpoint.tensors[name].map { $0.shape != shape } ?? false }.map(\.0))
        // Without new labels, a head that does not fit the config is an error, as in transformers
        // ("size mismatch"): a fresh random head would answer with plausible-looking scores.
        let labelMismatch = newShapes.first { name, shape in
            guard stale.contains(name), let found = checkpoint.tensors[name]?.shape else { return false }
            return found.count == shape.count && found.first != shape.first && found.dropFirst() == shape.dropFirst()   // rows are labels
        }
        if labels == nil, head == nil, let (name, expected) = labelMismatch, let found = checkpoint.tensors[name] {
            throw CheckpointError.tensorMismatch(
                name: name, reason: "size mismatch: the checkpoint holds \(found.shape), but config.json's \(config.numLabels) labels (id2label) "
                    + "need \(expected); make id2label list every class of the head, or pass the labels to train a new head")
        }
        if let head, head != savedCustomHead { stale.formUnion(SequenceClassifier.headShapes(savedHead, encoder: encoder).map(\.0)) }
        for name in stale { checkpoint.tensors[name] = nil }
        checkpoint.names.removeAll { stale.contains($0) }
        config.architectures = [encoder.classifierArchitecture]
        var rng = SplitMix64(seed: seed)
        let (parameters, report) = try ParameterLoader.load(checkpoint, encoder: encoder, headShapes: newShapes, rng: &rng)
        return SequenceClassifier(config: config, encoder: encoder, parameters: parameters, loadReport: report)
    }
}
