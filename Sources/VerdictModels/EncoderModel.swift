import VerdictHub
import VerdictTensor

/// A transformer encoder ("backbone"): token ids in, one hidden vector per token out.
///
/// Each family (`BertModel`, `RobertaModel`, `ModernBertModel`, …) is one file that names its
/// checkpoint keys and picks its choices (norm placement, position scheme, MLP kind, head); the
/// arithmetic lives once in `Layers/` and in `EncoderStack`.
public protocol EncoderModel: Sendable {
    var config: ModelConfig { get }
    /// Prefix of the encoder's names inside a task model (`"bert."`, `"roberta."`, `"model."`).
    var prefix: String { get }
    /// Embeddings and layers.
    var stack: EncoderStack { get }
    /// Every parameter (full names, with prefix) and its shape.
    var parameterShapes: [(String, [Int])] { get }
    /// Names of tensors that are constants rather than trained weights.
    var buffers: Set<String> { get }
    /// The pooler `Linear` (`tanh(W h[CLS] + b)`) of BERT-style models; `nil` when there is none.
    var pooler: String? { get }
    /// The class name `transformers` uses for this family's sequence classifier.
    var classifierArchitecture: String { get }
    /// The family's own sequence-classification head for `labels` outputs.
    func classificationHead(labels: Int) -> ClassificationHead

    /// Hidden states `[tokens, hidden]`, and the activations backward needs when `keepCache`.
    func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, EncoderCache?)
    /// Accumulates every parameter's gradient given the gradient of the hidden states.
    func backward(_ dHidden: Tensor, cache: EncoderCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore)
}

extension EncoderModel {
    public var buffers: Set<String> { [] }
    public var pooler: String? { nil }

    /// The most tokens one sequence may have (the position table's size, less any offset).
    public var maxSequenceLength: Int {
        let table = config.maxPositionEmbeddings
        return table - (stack.embeddings.positionsNeeded(length: table) - table)
    }

    public func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, EncoderCache?) {
        stack.forward(batch, p, rng: &rng, keepCache: keepCache)
    }

    public func backward(_ dHidden: Tensor, cache: EncoderCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        stack.backward(dHidden, cache: cache, batch: batch, p, grads: &grads)
    }
}

/// Embeddings, then encoder layers, then an optional final norm (pre-norm models), forward and
/// backward. Layers that share weights (ALBERT) simply carry the same names: their gradients
/// add up in the shared tensors.
public struct EncoderStack: Sendable {
    let embeddings: Embeddings
    let layers: [EncoderLayer]
    /// Prefix and epsilon of a norm after the last layer (ModernBERT's `final_norm`).
    var finalNorm: (name: String, eps: Float)? = nil

    func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, EncoderCache?) {
        let positions = embeddings.positions(batch)
        var (x, embeddingCache) = embeddings.forward(batch, p, rng: &rng, keepCache: keepCache)
        var caches: [EncoderLayer.Cache] = []
        for layer in layers {
            let (y, cache) = layer.forward(x, batch: batch, positions: positions, p, rng: &rng, keepCache: keepCache)
            x = y
            if let cache { caches.append(cache) }
        }
        var beforeFinalNorm: Tensor? = nil, finalNormCache: Ops.LayerNormCache? = nil
        if let finalNorm {
            beforeFinalNorm = x
            (x, finalNormCache) = p.layerNorm(x, finalNorm.name, eps: finalNorm.eps)
        }
        guard keepCache, let embeddingCache else { return (x, nil) }
        return (x, EncoderCache(embeddings: embeddingCache, layers: caches, beforeFinalNorm: beforeFinalNorm, finalNorm: finalNormCache))
    }

    func backward(_ dHidden: Tensor, cache: EncoderCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        let positions = embeddings.positions(batch)
        var dx = dHidden
        if let finalNorm, let input = cache.beforeFinalNorm, let normCache = cache.finalNorm {
            dx = p.layerNormBackward(dx, input: input, cache: normCache, finalNorm.name, grads: &grads)
        }
        for (layer, c) in zip(layers, cache.layers).reversed() {
            dx = layer.backward(dx, cache: c, batch: batch, positions: positions, p, grads: &grads)
        }
        embeddings.backward(dx, cache: cache.embeddings, batch: batch, p, grads: &grads)
    }

    /// The layers' parameter shapes, each shared name once.
    func layerShapes(hidden: Int, intermediate: Int, attentionBias: Bool = true, mlpBias: Bool = true, normBias: Bool = true) -> [(String, [Int])] {
        var seen = Set<String>()
        return layers.flatMap { $0.shapes(hidden: hidden, intermediate: intermediate, attentionBias: attentionBias, mlpBias: mlpBias, normBias: normBias) }
            .filter { seen.insert($0.0).inserted }
    }
}

/// Activations an encoder keeps for its backward pass.
public struct EncoderCache {
    var embeddings: Embeddings.Cache
    var layers: [EncoderLayer.Cache]
    var beforeFinalNorm: Tensor?
    var finalNorm: Ops.LayerNormCache?
}
