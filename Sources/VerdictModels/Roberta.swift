import VerdictHub
import VerdictTensor

/// RoBERTa (Liu et al., 2019) and the models built on its code — XLM-RoBERTa and CamemBERT — as
/// `transformers`' `RobertaModel`: BERT's layers and names under `roberta.`, with fairseq's
/// position ids (non-padding tokens count up from `pad_token_id + 1`, so a 514-row table holds
/// 512 tokens) and usually one token type.
///
/// Names: as `BertModel`, under `roberta.` (all three families). The base model's pooler is not
/// used by the classifier (`add_pooling_layer=False`) and is not loaded.
///
/// Head (`RobertaClassificationHead`): `<s>` → Dropout → `classifier.dense` → tanh → Dropout →
/// `classifier.out_proj`.
public struct RobertaModel: Backbone {
    public let config: ModelConfig
    public let prefix = "roberta."
    public let stack: TransformerStack
    public let classifierArchitecture: String

    public init(config: ModelConfig) {
        self.config = config
        classifierArchitecture = ["xlm-roberta": "XLMRobertaForSequenceClassification",
                                  "camembert": "CamembertForSequenceClassification"][config.modelType] ?? "RobertaForSequenceClassification"
        stack = TransformerStack(embeddings: .bert(prefix + "embeddings.", config, positionIds: .afterPadding(Int32(config.padTokenId))),
                             layers: (0..<config.numHiddenLayers).map { [prefix] i in
                                 TransformerLayer(bertStyle: .bert("\(prefix)encoder.layer.\(i)."), config)
                             })
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: config.typeVocabSize, width: h, hidden: h)
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize)
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        .denseOutProj(hidden: config.hiddenSize, labels: labels, activation: .tanh, dropout: config.classifierDropout)
    }
}
