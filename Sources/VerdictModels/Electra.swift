import VerdictHub
import VerdictJSON
import VerdictTensor

/// ELECTRA's discriminator (Clark et al., 2020) as `transformers`' `ElectraModel`: BERT's
/// embeddings at `embedding_size` wide, projected to `hidden_size` by `embeddings_project` when
/// the two differ, then BERT's layers. No pooler.
///
/// Names (under `electra.`):
///
///     embeddings.{word_embeddings,position_embeddings,token_type_embeddings}.weight, embeddings.LayerNorm.{weight,bias}
///     embeddings_project.{weight,bias}                      (only when embedding_size ≠ hidden_size)
///     encoder.layer.<i>.…                                   (as BERT)
///
/// Head (`ElectraClassificationHead`): `[CLS]` → Dropout → `classifier.dense` → GELU → Dropout →
/// `classifier.out_proj`.
public struct ElectraModel: Backbone {
    public let config: ModelConfig
    public let prefix = "electra."
    public let stack: TransformerStack
    public var classifierArchitecture: String { "ElectraForSequenceClassification" }
    let embeddingSize: Int

    public init(config: ModelConfig) throws {
        self.config = config
        embeddingSize = try config.field { try $0.int("embedding_size", default: config.hiddenSize) }
        var embeddings = Embeddings.bert(prefix + "embeddings.", config)
        if embeddingSize != config.hiddenSize { embeddings.projection = prefix + "embeddings_project" }
        stack = TransformerStack(embeddings: embeddings, layers: (0..<config.numHiddenLayers).map { [prefix] i in
            TransformerLayer(bertStyle: .bert("\(prefix)encoder.layer.\(i)."), config)
        })
    }

    public var parameterShapes: [(String, [Int])] {
        stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: config.typeVocabSize,
                                width: embeddingSize, hidden: config.hiddenSize)
            + stack.layerShapes(hidden: config.hiddenSize, intermediate: config.intermediateSize)
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        .denseOutProj(hidden: config.hiddenSize, labels: labels, activation: .gelu, dropout: config.classifierDropout)
    }
}
