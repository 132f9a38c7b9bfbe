import VerdictHub
import VerdictTensor

/// BERT (Devlin et al., 2019) as `transformers`' `BertModel`: word + position + token-type
/// embeddings, `numHiddenLayers` post-LayerNorm encoder layers, and a pooler over `[CLS]`.
///
/// Names (under `bert.` in task models, bare in base checkpoints such as all-MiniLM-L6-v2):
///
///     embeddings.{word_embeddings,position_embeddings,token_type_embeddings}.weight
///     embeddings.LayerNorm.{weight,bias}
///     encoder.layer.<i>.attention.self.{query,key,value}.{weight,bias}
///     encoder.layer.<i>.attention.output.{dense,LayerNorm}.{weight,bias}
///     encoder.layer.<i>.intermediate.dense.{weight,bias}
///     encoder.layer.<i>.output.{dense,LayerNorm}.{weight,bias}
///     pooler.dense.{weight,bias}
///
/// Head (`BertForSequenceClassification`): pooler → Dropout → `classifier`.
public struct BertModel: Backbone {
    public let config: ModelConfig
    public let prefix = "bert."
    public let stack: TransformerStack
    public var pooler: String? { prefix + "pooler.dense" }
    public var classifierArchitecture: String { "BertForSequenceClassification" }

    public init(config: ModelConfig) {
        self.config = config
        stack = TransformerStack(embeddings: .bert(prefix + "embeddings.", config), layers: (0..<config.numHiddenLayers).map { [prefix] i in
            TransformerLayer(bertStyle: .bert("\(prefix)encoder.layer.\(i)."), config)
        })
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: config.typeVocabSize, width: h, hidden: h)
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize)
            + [(prefix + "pooler.dense.weight", [h, h]), (prefix + "pooler.dense.bias", [h])]
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        .pooler(prefix + "pooler.dense", hidden: config.hiddenSize, labels: labels, dropout: config.classifierDropout)
    }
}

extension Embeddings {
    /// BERT's embeddings under `prefix` (`bert.embeddings.`): word, position, token type, LayerNorm.
    static func bert(_ prefix: String, _ config: ModelConfig, positionIds: PositionIds = .fromZero) -> Embeddings {
        Embeddings(word: prefix + "word_embeddings.weight", position: prefix + "position_embeddings.weight", positionIds: positionIds,
                   tokenType: config.typeVocabSize > 0 ? prefix + "token_type_embeddings.weight" : nil,
                   norm: prefix + "LayerNorm", eps: config.layerNormEps, dropout: config.hiddenDropoutProb)
    }
}

extension TransformerLayer {
    /// A post-norm layer with BERT's choices (separate q/k/v with biases, dense MLP,
    /// `hidden_act`, `layer_norm_eps`, BERT's dropout names).
    init(bertStyle names: TransformerLayerNames, _ config: ModelConfig, relativeBias: RelativePositionBias? = nil) {
        self.init(names: names, attention: AttentionOptions(heads: config.numAttentionHeads, headDim: config.hiddenSize / config.numAttentionHeads,
                                                            relativeBias: relativeBias),
                  activation: config.hiddenAct, eps: config.layerNormEps,
                  hiddenDropout: config.hiddenDropoutProb, attentionDropout: config.attentionProbsDropoutProb)
    }
}
