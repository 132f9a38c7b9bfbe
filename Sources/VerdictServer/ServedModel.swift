import Foundation
import VerdictHub
import VerdictJSON
import VerdictModels
import VerdictPipelines
import VerdictTensor
import VerdictTokenizers

/// The model a server answers with, which decides its routes as in text-embeddings-inference:
/// a sequence classifier serves `/predict` (and `/rerank` when it has a single output: a
/// cross-encoder, TEI's "reranker"); a base encoder serves `/embed`. Every model serves
/// `/tokenize` and `/decode`.
public enum ServedModel: Sendable {
    case classifier(TextClassificationPipeline)
    case embedder(FeatureExtractionPipeline)

    /// Loads a model folder or cached Hub id: a classifier when `config.json` names a
    /// `…ForSequenceClassification` architecture, otherwise a base encoder pooled by `pooling`
    /// (default: the folder's sentence-transformers pooling, else mean).
    public static func load(_ nameOrPath: String, pooling: SentencePooling? = nil, precision: InferencePrecision? = nil) throws -> ServedModel {
        let folder = try resolveModelFolder(nameOrPath)
        let config = try ModelConfig(folder: folder)
        if config.architectures.contains(where: { $0.hasSuffix("ForSequenceClassification") }) {
            return .classifier(try TextClassificationPipeline(model: folder.path, precision: precision))
        }
        return .embedder(try FeatureExtractionPipeline(model: folder.path, pooling: pooling, precision: precision))
    }

    var tokenizer: Tokenizer {
        switch self {
        case .classifier(let p): return p.tokenizer
        case .embedder(let p): return p.tokenizer
        }
    }

    /// The longest input in tokens.
    var maxLength: Int {
        switch self {
        case .classifier(let p): return p.maxLength
        case .embedder(let p): return p.maxLength
        }
    }

    /// A classifier with one output (a cross-encoder): what `/rerank` needs.
    var isReranker: Bool {
        if case .classifier(let p) = self { return p.model.config.numLabels == 1 }
        return false
    }

    var precision: InferencePrecision {
        switch self {
        case .classifier(let p): return p.model.parameters.precision
        case .embedder(let p): return p.model.parameters.precision
        }
    }

    /// One row per encoding: a classifier's logits, an embedder's pooled (unnormalised) vectors.
    func rows(_ encodings: [Encoding], maxBatchTokens: Int) throws(ModelInputError) -> Tensor {
        switch self {
        case .classifier(let p): return try p.logits(encodings: encodings, batchSize: encodings.count, maxBatchTokens: maxBatchTokens)
        case .embedder(let p): return try p.pooled(encodings: encodings, batchSize: encodings.count, maxBatchTokens: maxBatchTokens)
        }
    }

    /// `model_type` of `/info`, as TEI writes it.
    var typeDescription: JSONValue {
        switch self {
        case .classifier(let p):
            let labels = p.model.config.labels
            let table: JSONValue = .object([
                ("id2label", .object(labels.enumerated().map { (String($0.offset), .string($0.element)) })),
                ("label2id", .object(labels.enumerated().map { ($0.element, .int($0.offset)) })),
            ])
            return .object([(isReranker ? "reranker" : "classifier", table)])
        case .embedder(let p):
            return .object([("embedding", .object([("pooling", .string(p.pooling == .lastToken ? "last_token" : p.pooling.rawValue))]))])
        }
    }
}
