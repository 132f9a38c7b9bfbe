import VerdictHub
import VerdictJSON
import VerdictTensor

/// mBART (Liu et al., 2020) as `transformers`' `MBartModel`: an encoder and a decoder sharing
/// one token table (`shared`, scaled by `√d_model` with `scale_embedding`), each with learned
/// positions starting at row 2, a `layernorm_embedding`, pre-LayerNorm layers and a final
/// `layer_norm`. The decoder attends causally to itself and to the encoder's output; its input
/// is the text shifted right by one, led by the text's last token (`shift_tokens_right`: the
/// language code). The model's output is the decoder's.
///
/// Names (under `model.`; `encoder.embed_tokens.weight` and `decoder.embed_tokens.weight` are
/// `shared.weight` under other names):
///
///     shared.weight
///     {encoder,decoder}.embed_positions.weight                  ([max_position_embeddings + 2, d_model])
///     {encoder,decoder}.layernorm_embedding.{weight,bias}, {encoder,decoder}.layer_norm.{weight,bias}
///     {encoder,decoder}.layers.<i>.self_attn.{q,k,v,out}_proj.{weight,bias}, ….self_attn_layer_norm
///     decoder.layers.<i>.encoder_attn.{q,k,v,out}_proj.{weight,bias}, ….encoder_attn_layer_norm
///     {encoder,decoder}.layers.<i>.{fc1,fc2,final_layer_norm}.{weight,bias}
///
/// Head (`MBartForSequenceClassification`): the decoder's state at each text's last `</s>`
/// (`eos_token_id`; every text of a batch must hold as many) → Dropout → `classification_head.dense`
/// → tanh → Dropout → `classification_head.out_proj`.
public struct MBartModel: Backbone {
    public let config: ModelConfig
    public let prefix = "model."
    /// The decoder, whose output the head reads.
    public let stack: TransformerStack
    public let encoderStack: TransformerStack
    public var classifierArchitecture: String { "MBartForSequenceClassification" }
    let endOfSequence: Int32
    let decoderIntermediateSize: Int

    public init(config: ModelConfig) throws {
        self.config = config
        struct Options { var decoderLayers, decoderHeads, decoderFFN: Int; var scale: Bool; var activationDropout: Float; var eos: Int }
        let o = try config.field { c in
            func positive(_ key: String, _ d: Int) throws -> Int { try c.modelSize(key, default: d) }
            if let layerDrop = try c["encoder_layerdrop"]?.double(), layerDrop != 0 { throw c["encoder_layerdrop"]!.fail("0 (LayerDrop is not supported)") }
            if let layerDrop = try c["decoder_layerdrop"]?.double(), layerDrop != 0 { throw c["decoder_layerdrop"]!.fail("0 (LayerDrop is not supported)") }
            let eos = try c.int("eos_token_id", default: 2)
            guard (0...Int(Int32.max)).contains(eos) else { throw (c["eos_token_id"] ?? c).fail("a token id (0 or more)") }
            return Options(decoderLayers: try positive("decoder_layers", 12), decoderHeads: try positive("decoder_attention_heads", 16),
                           decoderFFN: try positive("decoder_ffn_dim", 4096), scale: try c.bool("scale_embedding", default: false),
                           activationDropout: Float(try c["activation_dropout"]?.double() ?? 0), eos: eos)
        }
        guard config.hiddenSize % o.decoderHeads == 0 else {
            throw CheckpointError.invalidConfig(file: config.file, path: "$.decoder_attention_heads", expected: "a divisor of d_model (\(config.hiddenSize))")
        }
        endOfSequence = Int32(o.eos)
        decoderIntermediateSize = o.decoderFFN
        let d = config.hiddenSize, eps = config.layerNormEps
        func embeddings(_ part: String) -> Embeddings {
            var e = Embeddings(word: "model.shared.weight", position: "model.\(part).embed_positions.weight", positionIds: .fromOffset(2), tokenType: nil,
                               norm: "model.\(part).layernorm_embedding", eps: eps, dropout: config.hiddenDropoutProb)
            e.wordScale = o.scale ? Float(d).squareRoot() : 1
            return e
        }
        func layer(_ part: String, _ i: Int, heads: Int, decoder: Bool) -> TransformerLayer {
            let p = "model.\(part).layers.\(i)."
            func attention(_ name: String) -> TransformerLayerNames.Projections {
                .separate(query: p + name + ".q_proj", key: p + name + ".k_proj", value: p + name + ".v_proj")
            }
            var names = TransformerLayerNames(projections: attention("self_attn"), attentionOutput: p + "self_attn.out_proj",
                                              attentionNorm: p + "self_attn_layer_norm", intermediate: p + "fc1", output: p + "fc2",
                                              outputNorm: p + "final_layer_norm")
            if decoder {
                names.crossAttention = CrossAttentionNames(query: p + "encoder_attn.q_proj", key: p + "encoder_attn.k_proj", value: p + "encoder_attn.v_proj",
                                                           output: p + "encoder_attn.out_proj", norm: p + "encoder_attn_layer_norm")
            }
            var l = TransformerLayer(names: names, attention: AttentionOptions(heads: heads, headDim: d / heads, causal: decoder),
                                     activation: config.hiddenAct, eps: eps, hiddenDropout: config.hiddenDropoutProb,
                                     attentionDropout: config.attentionProbsDropoutProb)
            l.placement = .preNorm
            l.mlpHiddenDropout = o.activationDropout
            return l
        }
        encoderStack = TransformerStack(embeddings: embeddings("encoder"),
                                        layers: (0..<config.numHiddenLayers).map { layer("encoder", $0, heads: config.numAttentionHeads, decoder: false) },
                                        finalNorm: ("model.encoder.layer_norm", eps))
        stack = TransformerStack(embeddings: embeddings("decoder"),
                                 layers: (0..<o.decoderLayers).map { layer("decoder", $0, heads: o.decoderHeads, decoder: true) },
                                 finalNorm: ("model.decoder.layer_norm", eps))
    }

    public var parameterShapes: [(String, [Int])] {
        let d = config.hiddenSize, positions = config.maxPositionEmbeddings + 2
        var shapes: [(String, [Int])] = []
        for (part, intermediate) in [(encoderStack, config.intermediateSize), (stack, decoderIntermediateSize)] {
            shapes += part.embeddings.shapes(vocab: config.vocabSize, positions: positions, types: 0, width: d, hidden: d)
            shapes += part.layerShapes(hidden: d, intermediate: intermediate)
            shapes += part.finalNormShapes(hidden: d)
        }
        var seen = Set<String>()
        return shapes.filter { seen.insert($0.0).inserted }
    }

    public var tiedNames: [String: [String]] {
        ["model.shared.weight": ["model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"]]
    }

    public var maxSequenceLength: Int { config.maxPositionEmbeddings }

    public var summary: [String] {
        ["encoder:"] + encoderStack.summary.map { "  " + $0 } + ["decoder (input: the text shifted right, led by its last token):"]
            + stack.summary.map { "  " + $0 }
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        var head = ClassificationHead.denseOutProj(prefix: "classification_head", hidden: config.hiddenSize, labels: labels,
                                                   activation: .tanh, dropout: config.classifierDropout)
        head.pooling = .lastOccurrence(endOfSequence)
        return head
    }

    /// The decoder's input: each sequence shifted right by one, led by its last token.
    func decoderBatch(_ batch: PackedBatch) -> PackedBatch {
        var shifted = batch
        for s in 0..<batch.sequenceCount where batch.offsets[s + 1] > batch.offsets[s] {
            let start = batch.offsets[s], end = batch.offsets[s + 1]
            shifted.inputIds[start] = batch.inputIds[end - 1]
            for t in (start + 1)..<end { shifted.inputIds[t] = batch.inputIds[t - 1] }
        }
        return shifted
    }

    public func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, BackboneCache?) {
        let (memory, encoderCache) = encoderStack.forward(batch, p, rng: &rng, keepCache: keepCache)
        var (hidden, cache) = stack.forward(decoderBatch(batch), memory: memory, p, rng: &rng, keepCache: keepCache)
        if let encoderCache { cache?.source = SourceCache(cache: encoderCache, memory: memory) }
        return (hidden, cache)
    }

    /// The decoder's last layer attends to the encoder's output: no shortcut.
    public func forward(_ batch: PackedBatch, _ p: ParameterStore, onlyRows rows: [Int], rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, BackboneCache?)? { nil }

    public func backward(_ dHidden: Tensor, cache: BackboneCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        guard let source = cache.source else { preconditionFailure("MBartModel.backward: the cache holds no encoder activations") }
        let dMemory = stack.backward(dHidden, cache: cache, batch: decoderBatch(batch), memory: source.memory, p, grads: &grads)
        encoderStack.backward(dMemory ?? Tensor(shape: source.memory.shape), cache: source.cache, batch: batch, p, grads: &grads)
    }
}

extension MBartModel {
    /// mBART's names for the common settings (`d_model`, `encoder_layers`, `encoder_ffn_dim`, …; the decoder's are read in `init`).
    static let configAttributes = ConfigAttributes(
        hiddenSize: .init("d_model", 1024), numHiddenLayers: .init("encoder_layers", 12), numAttentionHeads: .init("encoder_attention_heads", 16),
        intermediateSize: .init("encoder_ffn_dim", 4096), hiddenAct: "activation_function", typeVocabSize: nil,
        layerNormEps: .init(nil, 1e-5), hiddenDropout: .init("dropout", 0.1), attentionDropout: .init("attention_dropout", 0),
        classifierDropout: .init("classifier_dropout", 0), classifierDropoutFollowsHidden: false)
}
