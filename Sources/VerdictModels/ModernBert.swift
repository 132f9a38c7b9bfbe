import VerdictHub
import VerdictJSON
import VerdictTensor

/// ModernBERT (Warner et al., 2024) as `transformers`' `ModernBertModel`: token embeddings and a
/// norm (no positions: rotary on q/k), pre-norm layers with a fused `Wqkv`, GeGLU MLP, no biases
/// by default (`attention_bias`, `mlp_bias`, `norm_bias`), and a final norm. Layers alternate
/// global attention (every `global_attn_every_n_layers`-th, rope θ `global_rope_theta`) and
/// local attention (keys within `local_attention / 2` positions, rope θ `local_rope_theta`).
/// Layer 0 has no attention norm: the embedding norm precedes it.
///
/// Names (under `model.`):
///
///     embeddings.tok_embeddings.weight, embeddings.norm.weight
///     layers.<i>.attn_norm.weight (i > 0), layers.<i>.attn.{Wqkv,Wo}.weight
///     layers.<i>.mlp_norm.weight, layers.<i>.mlp.{Wi,Wo}.weight       (Wi: [2·intermediate, hidden])
///     final_norm.weight
///
/// Head (`ModernBertForSequenceClassification`): `[CLS]` or mean (`classifier_pooling`) →
/// `head.dense` → `classifier_activation` → `head.norm` → Dropout → `classifier`.
public struct ModernBertModel: Backbone {
    public let config: ModelConfig
    public let prefix = "model."
    public let stack: TransformerStack
    public var classifierArchitecture: String { "ModernBertForSequenceClassification" }
    let options: Options

    /// The config fields only ModernBERT has.
    struct Options {
        var eps: Float, normBias: Bool, attentionBias: Bool, mlpBias: Bool, activation: Activation
        var attentionDropout: Float, embeddingDropout: Float, mlpDropout: Float
        var localWindow: Int, globalLayers: [Bool], globalTheta: Float, localTheta: Float
        var pooling: ClassificationHead.PoolingKind, classifierActivation: Activation, classifierBias: Bool, classifierDropout: Float

        init(_ c: JSONNode, layers: Int) throws {
            func float(_ key: String, _ d: Double) throws -> Float { Float(try c[key]?.double() ?? d) }
            func readActivation(_ key: String) throws -> Activation {
                let node = c[key]
                guard let a = Activation(configName: try node?.string() ?? "gelu") else { throw node!.fail("gelu, gelu_new, relu, silu or tanh") }
                return a
            }
            eps = try float("norm_eps", 1e-5)
            normBias = try c.bool("norm_bias", default: false)
            attentionBias = try c.bool("attention_bias", default: false)
            mlpBias = try c.bool("mlp_bias", default: false)
            activation = try readActivation("hidden_activation")
            attentionDropout = try float("attention_dropout", 0)
            embeddingDropout = try float("embedding_dropout", 0)
            mlpDropout = try float("mlp_dropout", 0)
            localWindow = try c.int("local_attention", default: 128) / 2
            if let types = try c["layer_types"]?.array() {
                guard types.count == layers else { throw c["layer_types"]!.fail("one entry per layer (\(layers))") }
                globalLayers = try types.map { node in
                    switch try node.string() {
                    case "full_attention": return true
                    case "sliding_attention": return false
                    default: throw node.fail("full_attention or sliding_attention")
                    }
                }
            } else {
                let every = try c.int("global_attn_every_n_layers", default: 3)
                guard every > 0 else { throw c["global_attn_every_n_layers"]!.fail("a positive integer") }
                globalLayers = (0..<layers).map { $0 % every == 0 }
            }
            func theta(_ kind: String, legacy: String, _ d: Double) throws -> Float {
                if let rope = c["rope_parameters"]?[kind] {
                    if let type = try rope.optionalString("rope_type"), type != "default" { throw rope.fail("rope_type \"default\" (got \(type))") }
                    if let t = try rope["rope_theta"]?.double() { return Float(t) }
                }
                return try float(legacy, d)
            }
            globalTheta = try theta("full_attention", legacy: "global_rope_theta", 160_000)
            localTheta = try theta("sliding_attention", legacy: "local_rope_theta", 10_000)
            switch try c.string("classifier_pooling", default: "cls") {
            case "cls": pooling = .first
            case "mean": pooling = .mean
            default: throw c["classifier_pooling"]!.fail("cls or mean")
            }
            classifierActivation = try readActivation("classifier_activation")
            classifierBias = try c.bool("classifier_bias", default: false)
            classifierDropout = try float("classifier_dropout", 0)
        }
    }

    public init(config: ModelConfig) throws {
        self.config = config
        let o = try config.field { try Options($0, layers: config.numHiddenLayers) }
        options = o
        let headDim = config.hiddenSize / config.numAttentionHeads
        let embeddings = Embeddings(word: prefix + "embeddings.tok_embeddings.weight", position: nil, tokenType: nil,
                                    norm: prefix + "embeddings.norm", eps: o.eps, dropout: o.embeddingDropout)
        let layers = (0..<config.numHiddenLayers).map { [prefix] i -> TransformerLayer in
            let p = "\(prefix)layers.\(i)."
            let global = o.globalLayers[i]
            var layer = TransformerLayer(
                names: TransformerLayerNames(projections: .fused(p + "attn.Wqkv"), attentionOutput: p + "attn.Wo",
                                         attentionNorm: i == 0 ? nil : p + "attn_norm",
                                         intermediate: p + "mlp.Wi", output: p + "mlp.Wo", outputNorm: p + "mlp_norm"),
                attention: AttentionOptions(heads: config.numAttentionHeads, headDim: headDim, window: global ? nil : o.localWindow),
                activation: o.activation, eps: o.eps, hiddenDropout: 0, attentionDropout: o.attentionDropout)
            layer.placement = .preNorm
            layer.mlp = .gated
            layer.attentionKind = .standard(rotary: Rotary(theta: global ? o.globalTheta : o.localTheta, headDim: headDim))
            layer.attentionOutputDropout = o.attentionDropout
            layer.mlpHiddenDropout = o.mlpDropout
            layer.mlpOutputDropout = 0
            return layer
        }
        stack = TransformerStack(embeddings: embeddings, layers: layers, finalNorm: (prefix + "final_norm", o.eps))
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize, o = options
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: 0, types: 0, width: h, hidden: h, normBias: o.normBias)
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize,
                                biases: .init(attention: o.attentionBias, mlp: o.mlpBias, norm: o.normBias))
            + stack.finalNormShapes(hidden: h, bias: o.normBias)
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        let h = config.hiddenSize, o = options
        return ClassificationHead(pooling: o.pooling, steps: [
            .linear("head.dense", inputs: h, outputs: h, bias: o.classifierBias), .activation(o.classifierActivation),
            .norm("head.norm", width: h, eps: o.eps, bias: o.normBias), .dropout(o.classifierDropout),
            .linear("classifier", inputs: h, outputs: labels),
        ])
    }
}
