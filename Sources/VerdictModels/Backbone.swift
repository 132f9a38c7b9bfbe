import VerdictHub
import VerdictTensor

/// A transformer backbone: token ids in, one hidden vector per token out. Encoders (BERT and
/// its kin), decoders (GPT-2, LLaMA) and encoder–decoders (mBART, whose output is the decoder's)
/// all conform.
///
/// Each family (`BertModel`, `RobertaModel`, `LlamaModel`, …) is one file that names its
/// checkpoint keys and picks its choices (norm placement, position scheme, MLP kind, head); the
/// arithmetic lives once in `Layers/` and in `TransformerStack`.
public protocol Backbone: Sendable {
    var config: ModelConfig { get }
    /// Prefix of the encoder's names inside a task model (`"bert."`, `"roberta."`, `"model."`).
    var prefix: String { get }
    /// Embeddings and layers.
    var stack: TransformerStack { get }
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
    /// Weights checkpoints store as `[in, out]` (GPT-2's `Conv1D`); Verdict holds `[out, in]`.
    var transposedWeights: Set<String> { get }
    /// Other checkpoint names a parameter may be saved under (mBART's shared embeddings).
    var tiedNames: [String: [String]] { get }
    /// Whether a checkpoint tensor the model does not use is expected there and not worth a
    /// warning (GPT-2's stored causal masks `attn.bias`, old rotary `inv_freq` buffers).
    func ignoresCheckpointTensor(_ name: String) -> Bool
    /// The most tokens one sequence may have.
    var maxSequenceLength: Int { get }
    /// One line per design choice, for `verdict inspect`.
    var summary: [String] { get }

    /// Hidden states `[tokens, hidden]`, and the activations backward needs when `keepCache`.
    func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, BackboneCache?)
    /// Accumulates every parameter's gradient given the gradient of the hidden states.
    func backward(_ dHidden: Tensor, cache: BackboneCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore)
    /// `forward` for one row per sequence only (`rows[s]` of sequence `s`): hidden states `[rows.count,
    /// hidden]`, skipping what the last layer would compute for the other rows; `nil` when the
    /// family cannot (see `TransformerStack.forward(_:_:onlyRows:rng:keepCache:)`).
    func forward(_ batch: PackedBatch, _ p: ParameterStore, onlyRows rows: [Int], rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, BackboneCache?)?
}

extension Backbone {
    public var buffers: Set<String> { [] }
    public var pooler: String? { nil }
    public var classifierGlobalAttention: Bool { false }
    public var transposedWeights: Set<String> { [] }
    public var tiedNames: [String: [String]] { [:] }
    public func ignoresCheckpointTensor(_ name: String) -> Bool { name.hasSuffix("position_ids") }
    public var summary: [String] { stack.summary }

    /// The position table's size, less any offset (rotary models: `max_position_embeddings`).
    public var maxSequenceLength: Int {
        let table = config.maxPositionEmbeddings
        return table - (stack.embeddings.positionsNeeded(length: table) - table)
    }

    public func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, BackboneCache?) {
        stack.forward(batch, p, rng: &rng, keepCache: keepCache)
    }

    /// Checks that every token id, token type and position of `batch` has a row in the model's
    /// tables, before any of them is read.
    public func validate(_ batch: PackedBatch, _ p: ParameterStore) throws(ModelInputError) {
        let e = stack.embeddings
        let vocabulary = p[e.word].shape[0]
        if let bad = batch.inputIds.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw .tokenIdOutOfRange(id: Int(bad), vocabularySize: vocabulary)
        }
        if let table = e.tokenType {
            let types = p[table].shape[0]
            if let bad = batch.tokenTypeIds.first(where: { $0 < 0 || Int($0) >= types }) {
                throw .tokenTypeOutOfRange(type: Int(bad), typeVocabularySize: types)
            }
        }
        if let table = e.position {
            let rows = p[table].shape[0]
            if let longest = batch.lengths.max(), e.positionsNeeded(length: longest) > rows {
                throw .sequenceTooLong(length: longest, maximum: maxSequenceLength)
            }
        }
    }

    public func backward(_ dHidden: Tensor, cache: BackboneCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        stack.backward(dHidden, cache: cache, batch: batch, p, grads: &grads)
    }

    public func forward(_ batch: PackedBatch, _ p: ParameterStore, onlyRows rows: [Int], rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, BackboneCache?)? {
        stack.forward(batch, p, onlyRows: rows, rng: &rng, keepCache: keepCache)
    }
}

/// Embeddings, then transformer layers, then an optional final norm (pre-norm models), forward
/// and backward. An encoder stack attends in both directions; a decoder stack causally, and may
/// attend to an encoder's output (`memory`) as well. Layers that share weights (ALBERT) simply carry the same names: their gradients
/// add up in the shared tensors. Relative embeddings (DeBERTa) are computed once per forward and
/// handed to every layer; their gradients from all layers add up likewise.
public struct TransformerStack: Sendable {
    let embeddings: Embeddings
    let layers: [TransformerLayer]
    /// Prefix and epsilon of a norm after the last layer (ModernBERT's `final_norm`).
    var finalNorm: (name: String, eps: Float)? = nil
    var finalNormKind = NormKind.layerNorm
    /// The relative-position embeddings of disentangled attention (DeBERTa).
    var relativeEmbeddings: RelativeEmbeddings? = nil

    func forward(_ batch: PackedBatch, memory: Tensor? = nil, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, BackboneCache?) {
        run(batch, memory: memory, p, rng: &rng, keepCache: keepCache, onlyRows: nil)
    }

    /// `forward` for `rows` only, one row per sequence, inside it (the rows a classification head
    /// pools). The last layer computes just those rows (`TransformerLayer.forwardRows`): keys and
    /// values of every token, everything else for the selected rows, which is all the loss or the
    /// logits depend on. Results (and, through `backward`, gradients) are those of the full pass;
    /// inference ones bit for bit. `nil` when the last layer cannot (relative attention terms,
    /// Longformer's windows, cross-attention; in training or with dropout also rotary, q/k norms,
    /// fused or grouped k/v projections and causal or windowed attention) or `rows` is not one row
    /// inside each sequence.
    func forward(_ batch: PackedBatch, _ p: ParameterStore, onlyRows rows: [Int], rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, BackboneCache?)? {
        let offsets = batch.offsets
        // With a cache or dropout the last layer runs the training attention, which needs `trainsSelectedRows`.
        guard relativeEmbeddings == nil, let last = layers.last, keepCache || rng != nil ? last.trainsSelectedRows : last.computesSelectedRows,
              rows.count == batch.sequenceCount,
              rows.indices.allSatisfy({ offsets[$0] <= rows[$0] && rows[$0] < offsets[$0 + 1] }) else { return nil }
        return run(batch, memory: nil, p, rng: &rng, keepCache: keepCache, onlyRows: rows)
    }

    /// Both `forward`s: every layer in full, or the last one on `onlyRows` (checked by the caller).
    private func run(_ batch: PackedBatch, memory: Tensor?, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool,
                     onlyRows rows: [Int]?) -> (Tensor, BackboneCache?) {
        let positions = embeddings.positions(batch), tables = rotaryTables(positions)
        var (x, embeddingCache) = OpProfiler.measure(.embeddings) { embeddings.forward(batch, p, rng: &rng, keepCache: keepCache) }
        var relative: Tensor? = nil, relativeNorm: Ops.NormCache? = nil
        if let relativeEmbeddings { (relative, relativeNorm) = relativeEmbeddings.forward(p) }
        var caches: [TransformerLayer.Cache] = [], rowsCache: TransformerLayer.RowsCache? = nil
        for (index, layer) in layers.enumerated() {
            if let rows, index == layers.count - 1 {
                (x, rowsCache) = layer.forwardRows(x, rows: rows, batch: batch, positions: positions, rotaryTables: tables, p, rng: &rng,
                                                   keepCache: keepCache)
                break
            }
            let (y, cache) = layer.forward(x, batch: batch, positions: positions, rotaryTables: tables, relative: relative, memory: memory, p,
                                           rng: &rng, keepCache: keepCache)
            x = y
            if let cache { caches.append(cache) }
        }
        var beforeFinalNorm: Tensor? = nil, finalNormCache: Ops.NormCache? = nil
        if let finalNorm {
            beforeFinalNorm = x
            (x, finalNormCache) = p.norm(x, finalNorm.name, finalNormKind, eps: finalNorm.eps)
        }
        guard keepCache, let embeddingCache, rows == nil || rowsCache != nil else { return (x, nil) }
        return (x, BackboneCache(embeddings: embeddingCache, layers: caches, beforeFinalNorm: beforeFinalNorm, finalNorm: finalNormCache,
                                relativeNorm: relativeNorm, lastLayerRows: rowsCache))
    }

    /// Accumulates the gradients; returns the gradient of `memory` when there is one.
    @discardableResult
    func backward(_ dHidden: Tensor, cache: BackboneCache, batch: PackedBatch, memory: Tensor? = nil, _ p: ParameterStore,
                  grads: inout ParameterStore) -> Tensor? {
        let positions = embeddings.positions(batch), tables = rotaryTables(positions)
        var dx = dHidden
        if let finalNorm, let input = cache.beforeFinalNorm, let normCache = cache.finalNorm {
            dx = p.normBackward(dx, input: input, cache: normCache, finalNorm.name, finalNormKind, grads: &grads)
        }
        var dRelative: Tensor? = nil, dMemory: Tensor? = nil
        var layersWithFullCaches = layers[...]
        if let rowsCache = cache.lastLayerRows, let last = layers.last {
            dx = last.backwardRows(dx, cache: rowsCache, batch: batch, p, grads: &grads)
            layersWithFullCaches = layers.dropLast()
        }
        for (layer, c) in zip(layersWithFullCaches, cache.layers).reversed() {
            dx = layer.backward(dx, cache: c, batch: batch, positions: positions, rotaryTables: tables, memory: memory, p, grads: &grads,
                                dRelative: &dRelative, dMemory: &dMemory)
        }
        if let relativeEmbeddings, let dRelative {
            relativeEmbeddings.backward(dRelative, normCache: cache.relativeNorm, p, grads: &grads)
        }
        embeddings.backward(dx, cache: cache.embeddings, batch: batch, p, grads: &grads)
        return dMemory
    }

    /// The cosines and sines of this pass's positions for each distinct rotary of the layers,
    /// computed once and handed to every layer (not once per layer and projection).
    func rotaryTables(_ positions: [Int32]) -> [Rotary: Rotary.Table] {
        var tables: [Rotary: Rotary.Table] = [:]
        for rotary in layers.compactMap(\.rotary) where tables[rotary] == nil { tables[rotary] = rotary.table(positions: positions) }
        return tables
    }

    /// The final norm's parameter shapes (none without a final norm): its weight, and its bias
    /// for a LayerNorm that has one (`bias`: false for ModernBERT's `norm_bias: false`).
    func finalNormShapes(hidden: Int, bias: Bool = true) -> [(String, [Int])] {
        guard let finalNorm else { return [] }
        return [(finalNorm.name + ".weight", [hidden])] + (bias && finalNormKind == .layerNorm ? [(finalNorm.name + ".bias", [hidden])] : [])
    }

    /// The layers' parameter shapes, each shared name once.
    func layerShapes(hidden: Int, intermediate: Int, biases: TransformerLayer.Biases = .init()) -> [(String, [Int])] {
        var seen = Set<String>()
        return layers.flatMap { $0.shapes(hidden: hidden, intermediate: intermediate, biases: biases) }
            .filter { seen.insert($0.0).inserted }
    }
}

extension TransformerStack {
    /// One line per design choice, for `verdict inspect`: norm placement, positions, attention, MLP.
    public var summary: [String] {
        guard let first = layers.first else { return ["no layers"] }
        var lines: [String] = []
        let shared = Set(layers.map { $0.names.attentionOutput }).count
        let norm = first.norm == .rmsNorm ? "RMSNorm" : "LayerNorm"
        lines.append("\(layers.count) \(first.placement == .postNorm ? "post-norm" : "pre-norm") \(norm) layers"
                     + (shared < layers.count ? " sharing \(shared) distinct weight sets" : "")
                     + (finalNorm == nil ? "" : ", final norm"))
        var positions: [String] = []
        if embeddings.position != nil {
            switch embeddings.positionIds {
            case .afterPadding(let padding): positions.append("learned absolute (fairseq ids after padding \(padding))")
            case .fromOffset(let offset): positions.append("learned absolute (ids from \(offset))")
            case .fromZero: positions.append("learned absolute")
            }
        }
        let thetas = Set(layers.compactMap { $0.rotary?.theta }).sorted()
        if !thetas.isEmpty {
            positions.append("rotary θ " + thetas.map { String(format: "%g", $0) }.joined(separator: " / ")
                             + (first.rotary.map { $0.scaling.summary } ?? ""))
        }
        if let bias = first.attention.relativeBias { positions.append("relative bias, \(bias.buckets) buckets up to \(bias.maxDistance)") }
        lines.append("positions: " + (positions.isEmpty ? "none" : positions.joined(separator: ", ")))
        let windowed = layers.enumerated().filter { $0.element.attention.window != nil }
        let a = first.attention
        var attention = (a.causal ? "causal, " : "") + "\(a.heads) heads" + (a.keyValueHeads < a.heads ? " sharing \(a.keyValueHeads) k/v heads" : "")
            + " of \(a.headDim), " + (first.names.projectionNames.count == 1 ? "fused qkv" : "separate q/k/v")
        if first.headNorms != nil { attention += ", q/k norms" }
        if first.names.crossAttention != nil { attention += ", cross-attention to the encoder" }
        if let w = windowed.first?.element.attention.window {
            attention += "; \(windowed.count) of \(layers.count) layers local (" + (a.causal ? "\(w + 1) tokens back" : "±\(w) tokens") + ")"
        }
        lines.append("attention: " + attention)
        lines.append("MLP: " + (first.mlp == .gated ? "gated \(first.activation.rawValue) (GLU)" : "dense, \(first.activation.rawValue)"))
        if embeddings.projection != nil { lines.append("embeddings projected to the hidden width") }
        return lines
    }
}

/// Activations an encoder keeps for its backward pass.
public struct BackboneCache {
    var embeddings: Embeddings.Cache
    var layers: [TransformerLayer.Cache]
    var beforeFinalNorm: Tensor?
    var finalNorm: Ops.NormCache?
    /// The relative embeddings' norm (DeBERTa's `encoder.LayerNorm`).
    var relativeNorm: Ops.NormCache? = nil
    /// The encoder half of an encoder–decoder (mBART), whose output the decoder attended to.
    var source: SourceCache? = nil
    /// The last layer's activations when it computed the pooled rows only (`layers` then holds
    /// the caches of the others).
    var lastLayerRows: TransformerLayer.RowsCache? = nil
}

/// The encoder half's activations and output, kept by an encoder–decoder's cache.
final class SourceCache {
    let cache: BackboneCache
    let memory: Tensor
    init(cache: BackboneCache, memory: Tensor) { self.cache = cache; self.memory = memory }
}
