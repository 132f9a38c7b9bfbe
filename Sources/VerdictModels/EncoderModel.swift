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
    /// Whether the classifier puts global attention on each sequence's first token (Longformer).
    var classifierGlobalAttention: Bool { get }
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
    public var classifierGlobalAttention: Bool { false }

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
/// add up in the shared tensors. Relative embeddings (DeBERTa) are computed once per forward and
/// handed to every layer; their gradients from all layers add up likewise.
public struct EncoderStack: Sendable {
    let embeddings: Embeddings
    let layers: [EncoderLayer]
    /// Prefix and epsilon of a norm after the last layer (ModernBERT's `final_norm`).
    var finalNorm: (name: String, eps: Float)? = nil
    /// The relative-position embeddings of disentangled attention (DeBERTa).
    var relativeEmbeddings: RelativeEmbeddings? = nil

    func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, EncoderCache?) {
        let positions = embeddings.positions(batch)
        var (x, embeddingCache) = embeddings.forward(batch, p, rng: &rng, keepCache: keepCache)
        var relative: Tensor? = nil, relativeNorm: Ops.LayerNormCache? = nil
        if let relativeEmbeddings { (relative, relativeNorm) = relativeEmbeddings.forward(p) }
        var caches: [EncoderLayer.Cache] = []
        for layer in layers {
            let (y, cache) = layer.forward(x, batch: batch, positions: positions, relative: relative, p, rng: &rng, keepCache: keepCache)
            x = y
            if let cache { caches.append(cache) }
        }
        var beforeFinalNorm: Tensor? = nil, finalNormCache: Ops.LayerNormCache? = nil
        if let finalNorm {
            beforeFinalNorm = x
            (x, finalNormCache) = p.layerNorm(x, finalNorm.name, eps: finalNorm.eps)
        }
        guard keepCache, let embeddingCache else { return (x, nil) }
        return (x, EncoderCache(embeddings: embeddingCache, layers: caches, beforeFinalNorm: beforeFinalNorm, finalNorm: finalNormCache,
                                relativeNorm: relativeNorm))
    }

    func backward(_ dHidden: Tensor, cache: EncoderCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        let positions = embeddings.positions(batch)
        var dx = dHidden
        if let finalNorm, let input = cache.beforeFinalNorm, let normCache = cache.finalNorm {
            dx = p.layerNormBackward(dx, input: input, cache: normCache, finalNorm.name, grads: &grads)
        }
        var dRelative: Tensor? = nil
        for (layer, c) in zip(layers, cache.layers).reversed() {
            dx = layer.backward(dx, cache: c, batch: batch, positions: positions, p, grads: &grads, dRelative: &dRelative)
        }
        if let relativeEmbeddings, let dRelative {
            relativeEmbeddings.backward(dRelative, normCache: cache.relativeNorm, p, grads: &grads)
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

extension EncoderStack {
    /// One line per design choice, for `verdict inspect`: norm placement, positions, attention, MLP.
    public var summary: [String] {
        guard let first = layers.first else { return ["no layers"] }
        var lines: [String] = []
        let shared = Set(layers.map { $0.names.attentionOutput }).count
        lines.append("\(layers.count) \(first.placement == .postNorm ? "post-norm" : "pre-norm") layers"
                     + (shared < layers.count ? " sharing \(shared) distinct weight sets" : "")
                     + (finalNorm == nil ? "" : ", final norm"))
        var positions: [String] = []
        if embeddings.position != nil {
            if case .afterPadding(let padding) = embeddings.positionIds { positions.append("learned absolute (fairseq ids after padding \(padding))") }
            else { positions.append("learned absolute") }
        }
        let thetas = Set(layers.compactMap { $0.rotary?.theta }).sorted()
        if !thetas.isEmpty { positions.append("rotary θ " + thetas.map { String(format: "%g", $0) }.joined(separator: " / ")) }
        if let bias = first.attention.relativeBias { positions.append("relative bias, \(bias.buckets) buckets up to \(bias.maxDistance)") }
        lines.append("positions: " + (positions.isEmpty ? "none" : positions.joined(separator: ", ")))
        let windowed = layers.enumerated().filter { $0.element.attention.window != nil }
        var attention = "\(first.attention.heads) heads, " + (first.names.projectionNames.count == 1 ? "fused qkv" : "separate q/k/v")
        if let w = windowed.first?.element.attention.window {
            attention += "; \(windowed.count) of \(layers.count) layers local (±\(w) tokens)"
        }
        lines.append("attention: " + attention)
        lines.append("MLP: " + (first.mlp == .gated ? "gated \(first.activation.rawValue) (GLU)" : "dense, \(first.activation.rawValue)"))
        if embeddings.projection != nil { lines.append("embeddings projected to the hidden width") }
        return lines
    }
}

/// Activations an encoder keeps for its backward pass.
public struct EncoderCache {
    var embeddings: Embeddings.Cache
    var layers: [EncoderLayer.Cache]
    var beforeFinalNorm: Tensor?
    var finalNorm: Ops.LayerNormCache?
    /// The relative embeddings' norm (DeBERTa's `encoder.LayerNorm`).
    var relativeNorm: Ops.LayerNormCache? = nil
}
