import Foundation
import VerdictHub
import VerdictJSON
import VerdictTensor

/// DeBERTa-v2 and -v3 (He et al., 2021) as `transformers`' `DebertaV2Model`: word embeddings
/// (+ absolute positions when `position_biased_input`, + token types when `type_vocab_size` > 0,
/// projected by `embed_proj` before the norm when `embedding_size` ≠ `hidden_size`), then
/// post-norm layers with disentangled attention (`DisentangledAttention`): `q · k` plus the
/// content-to-position and position-to-content terms of `pos_att_type` over one table of
/// relative-position embeddings shared by all layers, log-bucketed beyond `position_buckets / 2`
/// (v3), projected by each layer's own key/query projections (`share_att_key`) or by
/// `pos_key_proj` / `pos_query_proj`. With `relative_attention` false the layers attend plainly.
///
/// Names (under `deberta.`):
///
///     embeddings.word_embeddings.weight, embeddings.{position_embeddings,token_type_embeddings}.weight (when used)
///     embeddings.embed_proj.weight                          (only when embedding_size ≠ hidden_size)
///     embeddings.LayerNorm.{weight,bias}
///     encoder.rel_embeddings.weight                         [2·span, hidden]  (relative_attention)
///     encoder.LayerNorm.{weight,bias}                       (norm_rel_ebd contains layer_norm)
///     encoder.layer.<i>.attention.self.{query_proj,key_proj,value_proj}.{weight,bias}
///     encoder.layer.<i>.attention.self.{pos_key_proj,pos_query_proj}.{weight,bias}  (not share_att_key; c2p, p2c)
///     encoder.layer.<i>.attention.output.{dense,LayerNorm}.{weight,bias}
///     encoder.layer.<i>.intermediate.dense.{weight,bias}, encoder.layer.<i>.output.{dense,LayerNorm}.{weight,bias}
///
/// Head (`DebertaV2ForSequenceClassification`, ContextPooler): `[CLS]` → Dropout(`pooler_dropout`)
/// → `pooler.dense` → `pooler_hidden_act` → Dropout(`cls_dropout`, else `hidden_dropout_prob`)
/// → `classifier`. Not supported: the convolution layer of `conv_kernel_size` (DeBERTa-v2 xlarge
/// and xxlarge).
public struct DebertaV2Model: Backbone {
    public let config: ModelConfig
    public let prefix = "deberta."
    public let stack: TransformerStack
    public var classifierArchitecture: String { "DebertaV2ForSequenceClassification" }
    let options: Options

    /// The config fields only DeBERTa has, with DeBERTa's defaults (`type_vocab_size` 0,
    /// `layer_norm_eps` 1e-7, where `ModelConfig` has BERT's).
    struct Options {
        var eps: Float, typeVocabSize: Int, embeddingSize: Int, positionBiasedInput: Bool
        var relativeAttention: Bool, contentToPosition: Bool, positionToContent: Bool, shareAttentionKey: Bool
        /// `position_buckets` (0 for none) and `max_relative_positions` (`max_position_embeddings` when below 1).
        var buckets: Int, maxRelativePositions: Int
        var normalizeRelativeEmbeddings: Bool
        var poolerDropout: Float, poolerActivation: Activation, classifierDropout: Float

        init(_ c: JSONNode, _ config: ModelConfig) throws {
            if let kernel = try c.optionalInt("conv_kernel_size"), kernel > 0 {
                throw CheckpointError.unsupportedModel("deberta-v2 with conv_kernel_size \(kernel) (the convolution layer of DeBERTa-v2 xlarge/xxlarge)")
            }
            let headDim = config.hiddenSize / config.numAttentionHeads
            if let node = c["attention_head_size"], try node.int() != headDim {
                throw node.fail("hidden_size / num_attention_heads (\(headDim))")
            }
            if let node = c["pooler_hidden_size"], try node.int() != config.hiddenSize {
                throw node.fail("hidden_size (\(config.hiddenSize)): the classifier reads the pooler's output")
            }
            eps = Float(try c["layer_norm_eps"]?.double() ?? 1e-7)
            typeVocabSize = try c.int("type_vocab_size", default: 0)
            embeddingSize = try c.int("embedding_size", default: config.hiddenSize)
            guard typeVocabSize >= 0 else { throw (c["type_vocab_size"] ?? c).fail("a count of token types, 0 for none") }
            guard embeddingSize > 0 else { throw (c["embedding_size"] ?? c).fail("a positive integer") }
            positionBiasedInput = try c.bool("position_biased_input", default: true)
            relativeAttention = try c.bool("relative_attention", default: false)
            let terms = try Self.attentionTerms(c)
            contentToPosition = terms.contains("c2p")
            positionToContent = terms.contains("p2c")
            shareAttentionKey = try c.bool("share_att_key", default: false)
            buckets = max(try c.int("position_buckets", default: -1), 0)
            let maxRelative = try c.int("max_relative_positions", default: -1)
            maxRelativePositions = maxRelative < 1 ? config.maxPositionEmbeddings : maxRelative
            if relativeAttention, buckets > 0, buckets < 2 || maxRelativePositions - 1 <= buckets / 2 {
                throw (c["position_buckets"] ?? c).fail("at least 2, and less than 2 · (max_relative_positions − 1) "
                                                        + "(got \(buckets) and \(maxRelativePositions))")
            }
            let norms = try c.string("norm_rel_ebd", default: "none").lowercased().split(separator: "|")
            normalizeRelativeEmbeddings = norms.contains { $0.trimmingCharacters(in: .whitespaces) == "layer_norm" }
            poolerDropout = Float(try c["pooler_dropout"]?.double() ?? 0)
            let activationName = try c.string("pooler_hidden_act", default: "gelu")
            guard let activation = Activation(configName: activationName) else {
                throw (c["pooler_hidden_act"] ?? c).fail("gelu, gelu_new, relu, silu or tanh")
            }
            poolerActivation = activation
            classifierDropout = try c["cls_dropout"].map { Float(try $0.double()) } ?? config.hiddenDropoutProb
        }

        /// `pos_att_type`: a list, or a string such as `"p2c|c2p"`; only c2p and p2c exist in v2.
        private static func attentionTerms(_ c: JSONNode) throws -> [String] {
            guard let node = c["pos_att_type"] else { return [] }
            let terms: [String]
            if case .string(let s) = node.value {
                terms = s.lowercased().split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            } else {
                terms = try node.array().map { try $0.string() }
            }
            guard terms.allSatisfy({ $0 == "c2p" || $0 == "p2c" }) else { throw node.fail("c2p and/or p2c (got \(terms))") }
            return terms
        }

        /// Half the rows of the relative table (`att_span`).
        var span: Int { DisentangledAttention.span(buckets: buckets, maxDistance: maxRelativePositions) }
        /// The term count `1 + #pos_att_type` under the score's square root.
        var scaleFactor: Int { 1 + (contentToPosition ? 1 : 0) + (positionToContent ? 1 : 0) }
        var usesRelativeTerms: Bool { relativeAttention && (contentToPosition || positionToContent) }
    }

    public init(config: ModelConfig) throws {
        self.config = config
        let o = try config.field { try Options($0, config) }
        options = o
        let e = prefix + "embeddings."
        var embeddings = Embeddings(word: e + "word_embeddings.weight", position: o.positionBiasedInput ? e + "position_embeddings.weight" : nil,
                                    tokenType: o.typeVocabSize > 0 ? e + "token_type_embeddings.weight" : nil,
                                    norm: e + "LayerNorm", eps: o.eps, dropout: config.hiddenDropoutProb)
        if o.embeddingSize != config.hiddenSize {
            embeddings.projection = e + "embed_proj"
            embeddings.projectionPlacement = .beforeNorm
        }
        let layers = (0..<config.numHiddenLayers).map { [prefix] i in Self.layer("\(prefix)encoder.layer.\(i).", config, o) }
        var stack = TransformerStack(embeddings: embeddings, layers: layers)
        if o.usesRelativeTerms {
            stack.relativeEmbeddings = RelativeEmbeddings(table: prefix + "encoder.rel_embeddings.weight",
                                                          norm: o.normalizeRelativeEmbeddings ? prefix + "encoder.LayerNorm" : nil, eps: o.eps)
        }
        self.stack = stack
    }

    /// One post-norm layer with BERT's shape under DeBERTa's names, its attention disentangled.
    private static func layer(_ p: String, _ config: ModelConfig, _ o: Options) -> TransformerLayer {
        let s = p + "attention.self."
        let names = TransformerLayerNames(
            projections: .separate(query: s + "query_proj", key: s + "key_proj", value: s + "value_proj"),
            attentionOutput: p + "attention.output.dense", attentionNorm: p + "attention.output.LayerNorm",
            intermediate: p + "intermediate.dense", output: p + "output.dense", outputNorm: p + "output.LayerNorm")
        let headDim = config.hiddenSize / config.numAttentionHeads
        var attention = AttentionOptions(heads: config.numAttentionHeads, headDim: headDim)
        attention.scale = 1 / (Float(headDim) * Float(o.scaleFactor)).squareRoot()
        var layer = TransformerLayer(names: names, attention: attention, activation: config.hiddenAct, eps: o.eps,
                                     hiddenDropout: config.hiddenDropoutProb, attentionDropout: config.attentionProbsDropoutProb)
        if o.usesRelativeTerms {
            layer.attentionKind = .disentangled(DisentangledAttention(
                positionKey: o.contentToPosition ? s + (o.shareAttentionKey ? "key_proj" : "pos_key_proj") : nil,
                positionQuery: o.positionToContent ? s + (o.shareAttentionKey ? "query_proj" : "pos_query_proj") : nil,
                buckets: o.buckets, maxDistance: o.maxRelativePositions, dropout: config.hiddenDropoutProb))
        }
        return layer
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize, o = options
        var shapes = stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: o.typeVocabSize,
                                             width: o.embeddingSize, hidden: h)
        if o.relativeAttention { shapes.append((prefix + "encoder.rel_embeddings.weight", [2 * o.span, h])) }
        if o.normalizeRelativeEmbeddings { shapes += [(prefix + "encoder.LayerNorm.weight", [h]), (prefix + "encoder.LayerNorm.bias", [h])] }
        shapes += stack.layerShapes(hidden: h, intermediate: config.intermediateSize)
        guard o.relativeAttention, !o.shareAttentionKey else { return shapes }
        for i in 0..<config.numHiddenLayers {
            let s = "\(prefix)encoder.layer.\(i).attention.self."
            if o.contentToPosition { shapes += [(s + "pos_key_proj.weight", [h, h]), (s + "pos_key_proj.bias", [h])] }
            if o.positionToContent { shapes += [(s + "pos_query_proj.weight", [h, h]), (s + "pos_query_proj.bias", [h])] }
        }
        return shapes
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        let h = config.hiddenSize, o = options
        return ClassificationHead(pooling: .first, steps: [
            .dropout(o.poolerDropout), .linear("pooler.dense", inputs: h, outputs: h), .activation(o.poolerActivation),
            .dropout(o.classifierDropout), .linear("classifier", inputs: h, outputs: labels),
        ])
    }
}
