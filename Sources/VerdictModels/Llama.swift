import VerdictHub
import VerdictJSON
import VerdictTensor

/// LLaMA (Touvron et al., 2023) as `transformers`' `LlamaModel`, and the models that compute
/// the same thing under the same names:
///
/// | `model_type` | differences `transformers` makes, all covered here |
/// | --- | --- |
/// | `llama` | `attention_bias` (q, k, v, o), `mlp_bias`, `head_dim`, rope scaling `linear` / `llama3` |
/// | `mistral` | causal sliding window (`sliding_window`; keys less than that many positions back) |
/// | `qwen2` | biases on q, k, v (not o); sliding window only with `use_sliding_window` (via `layer_types`) |
/// | `qwen3` | RMSNorm over each head of q and k (`q_norm`, `k_norm`) before rotary; `attention_bias` |
///
/// Token embeddings (no positions, no norm), pre-RMSNorm decoder layers with causal
/// grouped-query attention (`num_key_value_heads` k/v heads, rotary q and k), a SwiGLU MLP
/// (`down(silu(gate(h)) ⊙ up(h))`) and a final RMSNorm. Rope types other than `default`,
/// `linear` and `llama3` (`dynamic`, `yarn`, `longrope`) and partial rotary fail with the key.
///
/// Names (under `model.`):
///
///     embed_tokens.weight
///     layers.<i>.input_layernorm.weight, layers.<i>.self_attn.{q,k,v,o}_proj.weight (+ .bias)
///     layers.<i>.self_attn.{q,k}_norm.weight                   (qwen3)
///     layers.<i>.post_attention_layernorm.weight, layers.<i>.mlp.{gate,up,down}_proj.weight
///     norm.weight
///
/// Head (`LlamaForSequenceClassification` and kin): the last token that is not `pad_token_id`
/// → `score` (no bias). A checkpoint of the causal LM (`lm_head`) loads with a fresh `score`.
public struct LlamaModel: Backbone {
    public let config: ModelConfig
    public let prefix = "model."
    public let stack: TransformerStack
    let options: Options

    public var classifierArchitecture: String {
        switch config.modelType {
        case "mistral": return "MistralForSequenceClassification"
        case "qwen2": return "Qwen2ForSequenceClassification"
        case "qwen3": return "Qwen3ForSequenceClassification"
        default: return "LlamaForSequenceClassification"
        }
    }

    /// The config fields only this family has.
    struct Options {
        var eps: Float, headDim: Int, keyValueHeads: Int, attentionDropout: Float
        var biases: TransformerLayer.Biases
        var theta: Float, scaling: Rotary.Scaling
        /// Per layer: how many positions back a query may look (`nil`: all).
        var windows: [Int?]
        var headNorms: Bool

        init(_ c: JSONNode, _ config: ModelConfig) throws {
            let type = config.modelType
            eps = Float(try c["rms_norm_eps"]?.double() ?? 1e-6)
            let heads = config.numAttentionHeads
            headDim = try c["head_dim"].flatMap { $0.isNull ? nil : try $0.int() } ?? config.hiddenSize / heads
            keyValueHeads = try c["num_key_value_heads"].flatMap { $0.isNull ? nil : try $0.int() } ?? heads
            guard headDim > 0, headDim % 2 == 0 else { throw (c["head_dim"] ?? c).fail("an even head size (rotary pairs dimensions)") }
            guard keyValueHeads > 0, heads % keyValueHeads == 0 else {
                throw (c["num_key_value_heads"] ?? c).fail("a divisor of num_attention_heads (\(heads))")
            }
            attentionDropout = Float(try c["attention_dropout"]?.double() ?? 0)
            let attentionBias = try c.bool("attention_bias", default: false)
            switch type {
            case "qwen2": biases = .init(attention: true, attentionOutput: false, mlp: false, norm: false)
            case "llama": biases = .init(attention: attentionBias, mlp: try c.bool("mlp_bias", default: false), norm: false)
            default: biases = .init(attention: attentionBias, mlp: false, norm: false)
            }
            headNorms = type == "qwen3"
            if let factor = try c["partial_rotary_factor"]?.double(), factor != 1 { throw c["partial_rotary_factor"]!.fail("1 (partial rotary is not supported)") }
            (theta, scaling) = try Self.rope(c)
            windows = try Self.windows(c, type: type, layers: config.numHiddenLayers)
        }

        /// `rope_parameters` (transformers 5) or `rope_theta` + `rope_scaling` (older configs).
        static func rope(_ c: JSONNode) throws -> (Float, Rotary.Scaling) {
            let parameters = [c["rope_parameters"], c["rope_scaling"]].compactMap { $0 }.first { !$0.isNull }
            let theta = Float(try parameters?["rope_theta"]?.double() ?? c["rope_theta"]?.double() ?? 10_000)
            guard let r = parameters else { return (theta, .none) }
            let type = try r.optionalString("rope_type") ?? r.optionalString("type") ?? "default"
            func number(_ key: String) throws -> Float {
                guard let v = try r[key]?.double() else { throw r.fail("\(key) for rope type \(type)") }
                return Float(v)
            }
            switch type {
            case "default": return (theta, .none)
            case "linear": return (theta, .linear(factor: try number("factor")))
            case "llama3":
                return (theta, .llama3(factor: try number("factor"), lowFrequencyFactor: try number("low_freq_factor"),
                                       highFrequencyFactor: try number("high_freq_factor"),
                                       originalContext: try number("original_max_position_embeddings")))
            default: throw (r["rope_type"] ?? r["type"] ?? r).fail("rope type default, linear or llama3 (got \(type))")
            }
        }

        /// Sliding windows per layer from `layer_types`, else Mistral's `sliding_window` on every layer.
        static func windows(_ c: JSONNode, type: String, layers: Int) throws -> [Int?] {
            let sliding = try c["sliding_window"].flatMap { $0.isNull ? nil : try $0.int() }
            if let sliding, sliding < 1 { throw c["sliding_window"]!.fail("a positive number of positions") }
            if let types = c["layer_types"], !types.isNull {
                let list = try types.array()
                guard list.count == layers else { throw types.fail("one entry per layer (\(layers))") }
                return try list.map { node in
                    switch try node.string() {
                    case "full_attention": return nil
                    case "sliding_attention":
                        guard let sliding else { throw (c["sliding_window"] ?? c).fail("a window for the sliding_attention layers") }
                        return sliding - 1
                    default: throw node.fail("full_attention or sliding_attention")
                    }
                }
            }
            if type == "qwen2" || type == "qwen3", try c.bool("use_sliding_window", default: false) {
                throw c["use_sliding_window"]!.fail("false, or layer_types saying which layers slide")
            }
            return [Int?](repeating: type == "mistral" ? sliding.map { $0 - 1 } : nil, count: layers)
        }
    }

    public init(config: ModelConfig) throws {
        self.config = config
        let o = try config.field { try Options($0, config) }
        options = o
        let embeddings = Embeddings(word: prefix + "embed_tokens.weight", position: nil, tokenType: nil, norm: nil, eps: o.eps, dropout: 0)
        let layers = (0..<config.numHiddenLayers).map { [prefix] i -> TransformerLayer in
            let p = "\(prefix)layers.\(i)."
            var names = TransformerLayerNames(projections: .separate(query: p + "self_attn.q_proj", key: p + "self_attn.k_proj", value: p + "self_attn.v_proj"),
                                              attentionOutput: p + "self_attn.o_proj", attentionNorm: p + "input_layernorm",
                                              intermediate: p + "mlp.up_proj", output: p + "mlp.down_proj", outputNorm: p + "post_attention_layernorm")
            names.gate = p + "mlp.gate_proj"
            let attention = AttentionOptions(heads: config.numAttentionHeads, headDim: o.headDim, keyValueHeads: o.keyValueHeads,
                                             causal: true, window: o.windows[i])
            var layer = TransformerLayer(names: names, attention: attention, activation: config.hiddenAct, eps: o.eps,
                                         hiddenDropout: 0, attentionDropout: o.attentionDropout)
            layer.placement = .preNorm
            layer.norm = .rmsNorm
            layer.mlp = .gated
            layer.attentionKind = .standard(rotary: Rotary(theta: o.theta, headDim: o.headDim, scaling: o.scaling),
                                            headNorms: o.headNorms ? .init(query: p + "self_attn.q_norm", key: p + "self_attn.k_norm") : nil)
            return layer
        }
        var stack = TransformerStack(embeddings: embeddings, layers: layers, finalNorm: (prefix + "norm", o.eps))
        stack.finalNormKind = .rmsNorm
        self.stack = stack
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: 0, types: 0, width: h, hidden: h)
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize, biases: options.biases)
            + stack.finalNormShapes(hidden: h)
    }

    public func ignoresCheckpointTensor(_ name: String) -> Bool { name.hasSuffix("rotary_emb.inv_freq") }

    public func classificationHead(labels: Int) -> ClassificationHead {
        ClassificationHead(pooling: .lastNonPadding(config.hasPadTokenId ? Int32(config.padTokenId) : nil),
                           steps: [.linear("score", inputs: config.hiddenSize, outputs: labels, bias: false)])
    }
}
