import VerdictHub
import VerdictTensor

/// A BERT-family encoder ("backbone"): token ids in, one hidden vector per token out.
/// Each family (`BertModel`, `DistilBertModel`) is one file naming its parameters and wiring
/// the shared layers; forward and backward read side by side.
public protocol EncoderModel: Sendable {
    var config: ModelConfig { get }
    /// Prefix of the encoder's names inside a task model (`"bert."`, `"distilbert."`).
    var prefix: String { get }
    /// Whether the encoder has BERT's pooler (`tanh(W h[CLS] + b)`).
    var hasPooler: Bool { get }
    /// Every parameter (full names, with prefix) and its shape.
    var parameterShapes: [(String, [Int])] { get }
    /// Names of tensors that are constants rather than trained weights (not saved).
    var buffers: Set<String> { get }

    func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, EncoderCache?)
    func backward(_ dHidden: Tensor, cache: EncoderCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore)
    /// `tanh(W h[CLS] + b)` for each sequence; only when `hasPooler`.
    var poolerName: String { get }
}

/// Activations an encoder keeps for its backward pass.
public struct EncoderCache {
    var embeddings: Embeddings.Cache
    var layers: [EncoderLayer.Cache]
}

extension EncoderModel {
    public var buffers: Set<String> { [] }
    public var hasPooler: Bool { false }
    public var poolerName: String { prefix + "pooler.dense" }

    /// Runs embeddings and layers; shared by every post-LayerNorm family.
    func runEncoder(_ batch: PackedBatch, embeddings: Embeddings, layers: [EncoderLayer], _ p: ParameterStore,
                    rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, EncoderCache?) {
        var (x, embeddingCache) = embeddings.forward(batch, p, rng: &rng, keepCache: keepCache)
        var caches: [EncoderLayer.Cache] = []
        for layer in layers {
            let (y, cache) = layer.forward(x, offsets: batch.offsets, p, rng: &rng, keepCache: keepCache)
            x = y
            if let cache { caches.append(cache) }
        }
        guard keepCache, let embeddingCache else { return (x, nil) }
        return (x, EncoderCache(embeddings: embeddingCache, layers: caches))
    }

    func backpropEncoder(_ dHidden: Tensor, cache: EncoderCache, batch: PackedBatch, embeddings: Embeddings, layers: [EncoderLayer],
                         _ p: ParameterStore, grads: inout ParameterStore) {
        var dx = dHidden
        for (layer, c) in zip(layers, cache.layers).reversed() {
            dx = layer.backward(dx, cache: c, offsets: batch.offsets, p, grads: &grads)
        }
        embeddings.backward(dx, cache: cache.embeddings, batch: batch, p, grads: &grads)
    }
}
