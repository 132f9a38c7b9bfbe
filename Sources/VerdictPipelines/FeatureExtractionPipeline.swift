import Foundation
import VerdictHub
import VerdictJSON
import VerdictModels
import VerdictTensor
import VerdictTokenizers

/// How the token vectors of a text become one vector (sentence-transformers' `Pooling` module,
/// text-embeddings-inference's `--pooling`).
public enum SentencePooling: String, Sendable, CaseIterable {
    /// The first token's vector (`[CLS]`).
    case cls
    /// The mean of every token's vector.
    case mean
    /// The last token's vector (decoder embedding models).
    case lastToken = "last-token"

    /// The pooling a sentence-transformers folder declares in `<Pooling module>/config.json`
    /// (the module's path from `modules.json`, else `1_Pooling`); nil when the folder has none.
    public static func declared(in folder: URL) throws -> SentencePooling? {
        try declared(in: folder, modules: SentenceTransformersModules(folder: folder))
    }

    static func declared(in folder: URL, modules: SentenceTransformersModules) throws -> SentencePooling? {
        let file = folder.appendingPathComponent(modules.poolingPath).appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return nil }
        let root = try JSONNode.parse(data: data, file: file.path)
        func enabled(_ key: String) throws -> Bool { try root[key]?.bool() ?? false }
        let modes: [(String, SentencePooling?)] = [
            ("pooling_mode_cls_token", .cls), ("pooling_mode_mean_tokens", .mean), ("pooling_mode_lasttoken", .lastToken),
            ("pooling_mode_max_tokens", nil), ("pooling_mode_mean_sqrt_len_tokens", nil), ("pooling_mode_weightedmean_tokens", nil),
        ]
        let chosen = try modes.filter { try enabled($0.0) }
        guard chosen.count == 1, let mode = chosen[0].1 else {
            throw JSONError.invalidValue(file: file.path, path: "$", expected: "exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens or pooling_mode_lasttoken set to true (Verdict pools by CLS, mean or last token)")
        }
        return mode
    }

    /// One vector per sequence of packed hidden states.
    func pool(_ hidden: Tensor, offsets: [Int]) -> Tensor {
        switch self {
        case .cls: return Pooling.first(hidden, offsets: offsets)
        case .mean: return Pooling.mean(hidden, offsets: offsets)
        case .lastToken: return Pooling.rows(hidden, at: (0..<(offsets.count - 1)).map { offsets[$0 + 1] > offsets[$0] ? offsets[$0 + 1] - 1 : -1 })
        }
    }
}

/// The modules of a sentence-transformers folder (`modules.json`) that change an embedding.
struct SentenceTransformersModules {
    var poolingPath = "1_Pooling"
    var normalizes = false

    init(folder: URL) throws {
        let file = folder.appendingPathComponent("modules.json")
        guard let data = FileManager.default.contents(atPath: file.path) else { return }
        for module in try JSONNode.parse(data: data, file: file.path).array() {
            let type = try module.required("type").string()
            if type.hasSuffix(".Pooling"), let path = module["path"]?.stringValue, !path.isEmpty { poolingPath = path }
            if type.hasSuffix(".Normalize") { normalizes = true }
        }
    }
}

/// Text → one vector per text: tokenizer → base encoder → pooling → optional L2 normalisation,
/// as sentence-transformers' `encode` and text-embeddings-inference's `/embed` compute them.
/// Pooling and normalisation default to what the folder's sentence-transformers modules declare
/// (`1_Pooling/config.json`, a `Normalize` module); a folder without them pools by mean.
///
/// Unchecked Sendable: used by one thread at a time, like `TextClassificationPipeline`.
public final class FeatureExtractionPipeline: @unchecked Sendable {
    public let model: TransformerModel
    public let tokenizer: Tokenizer
    public let pooling: SentencePooling
    /// Whether `embed` normalises when not told (the folder has a sentence-transformers `Normalize` module).
    public let normalizesByDefault: Bool
    /// The longest input in tokens (the model's position limit or the tokenizer's `model_max_length`).
    public let maxLength: Int

    public init(model: TransformerModel, tokenizer: Tokenizer, pooling: SentencePooling = .mean, normalizesByDefault: Bool = false,
                precision: InferencePrecision? = nil) {
        model.prepareForInference(precision: precision)
        self.model = model
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.normalizesByDefault = normalizesByDefault
        maxLength = min(model.encoder.maxSequenceLength, tokenizer.modelMaxLength)
    }

    /// Loads a model folder or cached Hub id; `pooling` replaces the folder's own.
    public convenience init(model nameOrPath: String, pooling: SentencePooling? = nil, precision: InferencePrecision? = nil) throws {
        let folder = try resolveModelFolder(nameOrPath)
        let model = try AutoModel.from(pretrained: folder.path), tokenizer = try AutoTokenizer.from(folder: folder)
        try model.checkCompatible(with: tokenizer, folder: folder)
        let modules = try SentenceTransformersModules(folder: folder)
        self.init(model: model, tokenizer: tokenizer, pooling: try pooling ?? SentencePooling.declared(in: folder, modules: modules) ?? .mean,
                  normalizesByDefault: modules.normalizes, precision: precision)
    }

    /// Tokenizes `texts` with special tokens and, with `truncate`, cut to `maxLength`.
    public func encode(_ texts: [String], truncate: Bool = true) throws -> [Encoding] {
        try tokenizer.encodeBatch(texts, options: truncate ? TokenizationOptions(truncation: .longestFirst, maxLength: maxLength) : TokenizationOptions())
    }

    /// Pooled, unnormalised vectors of tokenized inputs, `[count, hidden]`, in input order; each
    /// encoding must fit the model. Batches hold at most `batchSize` texts and `maxBatchTokens` tokens.
    public func pooled(encodings: [Encoding], batchSize: Int = 32,
                       maxBatchTokens: Int = TextClassificationPipeline.defaultMaxBatchTokens) throws(ModelInputError) -> Tensor {
        let h = model.config.hiddenSize
        var out = Tensor(shape: [encodings.count, h])
        for indices in lengthSortedBatches(encodings, batchSize: batchSize, maxBatchTokens: maxBatchTokens) {
            let batch = PackedBatch(encodings: indices.map { encodings[$0] }, tokenTypes: tokenizer.returnsTokenTypeIds)
            let vectors = pooling.pool(try model(batch).lastHiddenState, offsets: batch.offsets)
            for (j, i) in indices.enumerated() { for c in 0..<h { out.scalars[i * h + c] = vectors.scalars[j * h + c] } }
        }
        return out
    }

    /// One vector per text, in input order; `normalize` nil does what the model's folder declares.
    public func callAsFunction(_ texts: [String], normalize: Bool? = nil, batchSize: Int = 32) throws -> [[Float]] {
        var vectors = try pooled(encodings: encode(texts), batchSize: batchSize)
        if normalize ?? normalizesByDefault { vectors = Pooling.l2Normalized(vectors) }
        let h = model.config.hiddenSize
        return (0..<texts.count).map { Array(vectors.scalars[($0 * h)..<(($0 + 1) * h)]) }
    }
}
