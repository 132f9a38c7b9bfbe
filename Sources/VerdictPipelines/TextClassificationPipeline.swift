import Foundation
import VerdictHub
import VerdictModels
import VerdictTensor
import VerdictTokenizers

/// One label and its score.
public struct LabelScore: Sendable, Equatable, CustomStringConvertible {
    public var label: String
    public var score: Float
    /// `POSITIVE 0.9970`: the label and the score to four decimals, as `verdict classify` prints them.
    public var description: String { label + " " + String(format: "%.4f", Double(score)) }
}

/// How raw logits become scores (`function_to_apply`).
public enum ScoreFunction: String, Sendable, CaseIterable {
    /// Sigmoid for multi-label or single-output models, softmax otherwise (what `transformers` does).
    case automatic, softmax, sigmoid, none
}

/// How many labels to return per text (`top_k`).
public enum TopK: Sendable, Equatable {
    /// Only the best label (the pipeline's default).
    case one
    case k(Int)
    /// Every label, best first (`top_k=None`).
    case all
}

/// Tokenizer → model → scores, as `pipeline("text-classification")`. Texts are packed into
/// batches without padding and results come back in input order.
///
/// Unchecked Sendable: a pipeline can be handed to another thread, but is used by one thread at a
/// time (the server runs every forward pass on its one inference worker); the kernels parallelise
/// inside each call.
public final class TextClassificationPipeline: @unchecked Sendable {
    public let model: SequenceClassifier
    public let tokenizer: Tokenizer
    /// The longest input in tokens; longer texts are truncated (the model's position limit or the tokenizer's `model_max_length`).
    public let maxLength: Int

    /// Wraps a loaded model and readies it for predictions (`SequenceClassifier.prepareForInference(precision:)`):
    /// `.int8` quantises every `Linear` layer (faster, a quarter of the weight memory, scores within
    /// about 1e-2 of `.float32`; see docs/Performance.md); `nil` keeps the model's own precision
    /// (int8 for a checkpoint written by `verdict quantize`).
    public init(model: SequenceClassifier, tokenizer: Tokenizer, precision: InferencePrecision? = nil) {
        model.prepareForInference(precision: precision)
        self.model = model
        self.tokenizer = tokenizer
        maxLength = min(model.encoder.maxSequenceLength, tokenizer.modelMaxLength)
    }

    /// Loads a model folder or cached Hub id.
    public convenience init(model nameOrPath: String, precision: InferencePrecision? = nil) throws {
        let folder = try resolveModelFolder(nameOrPath)
        let model = try AutoModelForSequenceClassification.from(pretrained: folder.path), tokenizer = try AutoTokenizer.from(folder: folder)
        try model.checkCompatible(with: tokenizer, folder: folder)
        self.init(model: model, tokenizer: tokenizer, precision: precision)
    }

    /// The logits of `texts` (and optional second segments), `[count, numLabels]`, in input order.
    public func logits(_ texts: [String], pairs: [String]? = nil, batchSize: Int = 32) throws -> Tensor {
        try logits(encodings: encode(texts, pairs: pairs), batchSize: batchSize)
    }

    /// Tokenizes `texts` (and optional second segments) as the model expects them: special tokens
    /// added and, with `truncate`, cut to `maxLength` (longest first). Without it, longer inputs
    /// come back whole; `logits(encodings:)` truncates nothing, so check `ids.count` first.
    public func encode(_ texts: [String], pairs: [String]? = nil, truncate: Bool = true) throws -> [Encoding] {
        var options = TokenizationOptions()
        if truncate { options = TokenizationOptions(truncation: .longestFirst, maxLength: maxLength) }
        return try tokenizer.encodeBatch(texts, pairs: pairs, options: options)
    }

    /// The logits of already tokenized inputs, `[count, numLabels]`, in input order. Each encoding
    /// must fit the model (`ids.count <= maxLength`). A decoder without `pad_token_id` takes one
    /// text per batch (what `transformers`' pipeline does with its default batch size of 1).
    /// A batch holds at most `batchSize` texts and, unless it is a single text, at most
    /// `maxBatchTokens` tokens: long texts go in smaller batches, which keeps memory bounded and
    /// the activations in cache (the model cuts larger batches the same way: `SequenceClassifier.logits`).
    public func logits(encodings: [Encoding], batchSize: Int = 32, maxBatchTokens: Int = TextClassificationPipeline.defaultMaxBatchTokens) throws(ModelInputError) -> Tensor {
        let labels = model.config.numLabels
        let batchSize = max(1, min(batchSize, model.maxBatchSequences ?? batchSize))
        var out = Tensor(shape: [encodings.count, labels])
        for indices in lengthSortedBatches(encodings, batchSize: batchSize, maxBatchTokens: maxBatchTokens) {
            let batchLogits = try model.logits(PackedBatch(encodings: indices.map { encodings[$0] }, tokenTypes: tokenizer.returnsTokenTypeIds))
            for (j, i) in indices.enumerated() { for c in 0..<labels { out.scalars[i * labels + c] = batchLogits.scalars[j * labels + c] } }
        }
        return out
    }

    /// The token budget of one batch (`logits(encodings:batchSize:maxBatchTokens:)`): the model's
    /// own budget of one pass, so a batch of the pipeline runs as one pass.
    public static let defaultMaxBatchTokens = SequenceClassifier.defaultMaxTokensPerPass

    /// Labelled scores per text.
    public func callAsFunction(_ texts: [String], pairs: [String]? = nil, topK: TopK = .one,
                               functionToApply: ScoreFunction = .automatic, batchSize: Int = 32) throws -> [[LabelScore]] {
        let logits = try logits(texts, pairs: pairs, batchSize: batchSize)
        let c = model.config.numLabels
        return (0..<texts.count).map { i in
            scores(Array(logits.scalars[(i * c)..<((i + 1) * c)]), functionToApply: functionToApply, topK: topK)
        }
    }

    /// Scores of one text.
    public func callAsFunction(_ text: String, topK: TopK = .one, functionToApply: ScoreFunction = .automatic) throws -> [LabelScore] {
        try self([text], topK: topK, functionToApply: functionToApply)[0]
    }

    /// The function `.automatic` resolves to for this model.
    public var defaultFunction: ScoreFunction {
        if model.config.problemType == .multiLabelClassification || model.config.numLabels == 1 { return .sigmoid }
        return .softmax
    }

    /// One input's logits as labelled scores, best first.
    public func scores(_ logits: [Float], functionToApply: ScoreFunction, topK: TopK) -> [LabelScore] {
        let function = functionToApply == .automatic ? defaultFunction : functionToApply
        let values: [Float]
        switch function {
        case .sigmoid: values = logits.map { Float(Logits.sigmoid($0)) }
        case .softmax: values = Logits.softmax(logits).map(Float.init)
        case .none, .automatic: values = logits
        }
        let ranked = zip(model.config.labels, values).enumerated()
            .sorted { $0.element.1 != $1.element.1 ? $0.element.1 > $1.element.1 : $0.offset < $1.offset }
            .map { LabelScore(label: $0.element.0, score: $0.element.1) }
        switch topK {
        case .one: return Array(ranked.prefix(1))
        case .k(let k): return Array(ranked.prefix(max(0, k)))
        case .all: return ranked
        }
    }
}

/// Tasks `pipeline(_:model:precision:)` builds; the task decides the pipeline's type.
public struct PipelineTask<Pipeline>: Sendable {
    let make: @Sendable (_ model: String?, _ precision: InferencePrecision?) throws -> Pipeline
}

extension PipelineTask where Pipeline == TextClassificationPipeline {
    /// `"text-classification"` (`"sentiment-analysis"`): labelled scores per text; without a model,
    /// Verdict's bundled default sentiment classifier (see `DefaultModel`).
    public static var textClassification: Self {
        Self { model, precision in try TextClassificationPipeline(model: try model ?? DefaultModel.path(), precision: precision) }
    }
}

extension PipelineTask where Pipeline == FeatureExtractionPipeline {
    /// `"feature-extraction"` as sentence-transformers does it: one pooled vector per text. Needs a model.
    public static var featureExtraction: Self {
        Self { model, precision in
            guard let model else { throw PipelineError.modelRequired(task: "featureExtraction") }
            return try FeatureExtractionPipeline(model: model, precision: precision)
        }
    }
}

/// A pipeline that cannot be built as asked.
public enum PipelineError: Error, CustomStringConvertible {
    /// The task has no default model.
    case modelRequired(task: String)

    public var description: String {
        switch self {
        case .modelRequired(let task): return "pipeline(.\(task)) has no default model: pass model: with a folder or a cached Hub id"
        }
    }
}

/// `pipeline("text-classification", model=…)` and the other tasks of `PipelineTask`.
public func pipeline<Pipeline>(_ task: PipelineTask<Pipeline>, model: String? = nil, precision: InferencePrecision? = nil) throws -> Pipeline {
    try task.make(model, precision)
}
