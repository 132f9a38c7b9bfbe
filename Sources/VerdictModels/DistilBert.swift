import VerdictHub
import VerdictTensor

/// DistilBERT (Sanh et al., 2019) as `transformers`' `DistilBertModel`: word + position
/// embeddings (no token types; optionally fixed sinusoidal positions), post-LayerNorm layers,
/// no pooler.
///
/// Names (under `distilbert.` in task models):
///
///     embeddings.{word_embeddings,position_embeddings}.weight, embeddings.LayerNorm.{weight,bias}
///     transformer.layer.<i>.attention.{q_lin,k_lin,v_lin,out_lin}.{weight,bias}
///     transformer.layer.<i>.sa_layer_norm.{weight,bias}
///     transformer.layer.<i>.ffn.{lin1,lin2}.{weight,bias}
///     transformer.layer.<i>.output_layer_norm.{weight,bias}
///
/// Head (`DistilBertForSequenceClassification`): `[CLS]` → `pre_classifier` → ReLU → Dropout → `classifier`.
public struct DistilBertModel: Backbone {
    public let config: ModelConfig
    public let prefix = "distilbert."
    public let stack: TransformerStack
    public var classifierArchitecture: String { "DistilBertForSequenceClassification" }

    public init(config: ModelConfig) {
        self.config = config
        stack = TransformerStack(embeddings: .bert(prefix + "embeddings.", config), layers: (0..<config.numHiddenLayers).map { [prefix] i in
            TransformerLayer(bertStyle: .distilBert("\(prefix)transformer.layer.\(i)."), config)
        })
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: 0, width: h, hidden: h)
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize)
    }

    /// Sinusoidal position embeddings are constants (stored in checkpoints, never trained).
    public var buffers: Set<String> { config.sinusoidalPositionEmbeddings ? [prefix + "embeddings.position_embeddings.weight"] : [] }

    public func classificationHead(labels: Int) -> ClassificationHead {
        let h = config.hiddenSize
        return ClassificationHead(pooling: .first, steps: ClassificationHead.mlp(hidden: "pre_classifier", out: "classifier", inputs: h, width: h,
                                                                                 labels: labels, dropout: config.classifierDropout))
    }
}

extension DistilBertModel {
    /// DistilBERT's names for the common settings (`dim`, `n_layers`, `hidden_dim`, …).
    static let configAttributes = ConfigAttributes(
        vocabSize: .init("vocab_size", 30522), hiddenSize: .init("dim", 768), numHiddenLayers: .init("n_layers", 6),
        numAttentionHeads: .init("n_heads", 12), intermediateSize: .init("hidden_dim", 3072), hiddenAct: "activation", typeVocabSize: nil,
        layerNormEps: .init(nil, 1e-12), hiddenDropout: .init("dropout", 0.1), attentionDropout: .init("attention_dropout", 0.1),
        classifierDropout: .init("seq_classif_dropout", 0.2), classifierDropoutFollowsHidden: false, sinusoidalPositions: "sinusoidal_pos_embds")
}
