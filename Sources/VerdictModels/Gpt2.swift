import VerdictHub
import VerdictJSON
import VerdictTensor

/// GPT-2 (Radford et al., 2019) as `transformers`' `GPT2Model`: token and learned absolute
/// position embeddings (no norm), pre-LayerNorm decoder layers with causal attention through one
/// fused `c_attn` projection, a dense MLP (`gelu_new`), and a final norm `ln_f`. The checkpoint's
/// `Conv1D` weights are stored `[in, out]`; Verdict transposes them on load and back on save.
///
/// Names (under `transformer.`):
///
///     wte.weight, wpe.weight
///     h.<i>.ln_1.{weight,bias}, h.<i>.attn.c_attn.{weight,bias}    (c_attn: [hidden, 3·hidden], q | k | v)
///     h.<i>.attn.c_proj.{weight,bias}, h.<i>.ln_2.{weight,bias}
///     h.<i>.mlp.c_fc.{weight,bias}, h.<i>.mlp.c_proj.{weight,bias}
///     ln_f.{weight,bias}
///
/// Head (`GPT2ForSequenceClassification`): the last token that is not `pad_token_id` →
/// `score` (no bias). Without `pad_token_id` a batch must hold one sequence.
public struct Gpt2Model: Backbone {
    public let config: ModelConfig
    public let prefix = "transformer."
    public let stack: TransformerStack
    public var classifierArchitecture: String { "GPT2ForSequenceClassification" }

    public init(config: ModelConfig) throws {
        self.config = config
        let (scaleWeights, scaleByLayer, embeddingDropout) = try config.field { c in
            (try c.bool("scale_attn_weights", default: true), try c.bool("scale_attn_by_inverse_layer_idx", default: false),
             Float(try c["embd_pdrop"]?.double() ?? 0.1))
        }
        let h = config.hiddenSize, heads = config.numAttentionHeads
        let embeddings = Embeddings(word: prefix + "wte.weight", position: prefix + "wpe.weight", tokenType: nil, norm: nil,
                                    eps: config.layerNormEps, dropout: embeddingDropout)
        let layers = (0..<config.numHiddenLayers).map { [prefix] i -> TransformerLayer in
            let p = "\(prefix)h.\(i)."
            var attention = AttentionOptions(heads: heads, headDim: h / heads, causal: true)
            if !scaleWeights { attention.scale = 1 }
            if scaleByLayer { attention.scale /= Float(i + 1) }
            var layer = TransformerLayer(
                names: TransformerLayerNames(projections: .fused(p + "attn.c_attn"), attentionOutput: p + "attn.c_proj", attentionNorm: p + "ln_1",
                                             intermediate: p + "mlp.c_fc", output: p + "mlp.c_proj", outputNorm: p + "ln_2"),
                attention: attention, activation: config.hiddenAct, eps: config.layerNormEps,
                hiddenDropout: config.hiddenDropoutProb, attentionDropout: config.attentionProbsDropoutProb)
            layer.placement = .preNorm
            return layer
        }
        stack = TransformerStack(embeddings: embeddings, layers: layers, finalNorm: (prefix + "ln_f", config.layerNormEps))
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: 0, width: h, hidden: h)
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize)
            + stack.finalNormShapes(hidden: h)
    }

    public var transposedWeights: Set<String> {
        Set(stack.layers.flatMap { l in [l.names.projectionNames[0], l.names.attentionOutput, l.names.intermediate, l.names.output].map { $0 + ".weight" } })
    }

    public func ignoresCheckpointTensor(_ name: String) -> Bool {
        name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias")
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        ClassificationHead(pooling: .lastNonPadding(config.hasPadTokenId ? Int32(config.padTokenId) : nil),
                           steps: [.linear("score", inputs: config.hiddenSize, outputs: labels, bias: false)])
    }
}

extension Gpt2Model {
    /// GPT-2's names for the common settings (`n_embd`, `n_layer`, `n_inner`, `n_positions`, …).
    static let configAttributes = ConfigAttributes(
        vocabSize: .init("vocab_size", 50257), hiddenSize: .init("n_embd", 768), numHiddenLayers: .init("n_layer", 12),
        numAttentionHeads: .init("n_head", 12), intermediateSize: .init("n_inner"), intermediateTimesHidden: 4,
        maxPositionEmbeddings: .init("n_positions", 1024), hiddenAct: "activation_function", typeVocabSize: nil,
        layerNormEps: .init("layer_norm_epsilon", 1e-5), hiddenDropout: .init("resid_pdrop", 0.1), attentionDropout: .init("attn_pdrop", 0.1),
        classifierDropout: .init(nil, 0), classifierDropoutFollowsHidden: false)
}
