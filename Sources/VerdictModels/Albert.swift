import VerdictHub
import VerdictJSON
import VerdictTensor

/// ALBERT (Lan et al., 2020) as `transformers`' `AlbertModel`: factorised embeddings
/// (`embedding_size` wide, projected to `hidden_size`), and `num_hidden_groups` groups of
/// `inner_group_num` post-norm layers whose weights are shared: layer `i` runs group
/// `⌊i / (num_hidden_layers / num_hidden_groups)⌋`. Shared layers carry the same names, so
/// their gradients add up in the shared weights.
///
/// Names (under `albert.`):
///
///     embeddings.{word_embeddings,position_embeddings,token_type_embeddings}.weight, embeddings.LayerNorm.{weight,bias}
///     encoder.embedding_hidden_mapping_in.{weight,bias}
///     encoder.albert_layer_groups.<g>.albert_layers.<j>.attention.{query,key,value,dense,LayerNorm}.{weight,bias}
///     encoder.albert_layer_groups.<g>.albert_layers.<j>.{ffn,ffn_output,full_layer_layer_norm}.{weight,bias}
///     pooler.{weight,bias}
///
/// Head (`AlbertForSequenceClassification`): pooler (tanh) → Dropout(`classifier_dropout_prob`) → `classifier`.
/// As in `transformers`, the MLP output has no dropout.
public struct AlbertModel: Backbone {
    public let config: ModelConfig
    public let prefix = "albert."
    public let stack: TransformerStack
    public var pooler: String? { prefix + "pooler" }
    public var classifierArchitecture: String { "AlbertForSequenceClassification" }
    let embeddingSize: Int
    let classifierDropout: Float

    public init(config: ModelConfig) throws {
        self.config = config
        let (embeddingSize, groups, inner, dropout) = try config.field { c in
            (try c.int("embedding_size", default: 128), try c.int("num_hidden_groups", default: 1), try c.int("inner_group_num", default: 1),
             Float(try c["classifier_dropout_prob"]?.double() ?? 0.1))
        }
        guard groups >= 1, groups <= config.numHiddenLayers, inner >= 1 else {
            throw CheckpointError.invalidConfig(file: config.file, path: "$.num_hidden_groups",
                                                expected: "1…num_hidden_layers groups of at least one layer (got \(groups) × \(inner))")
        }
        self.embeddingSize = embeddingSize
        classifierDropout = dropout
        var embeddings = Embeddings.bert(prefix + "embeddings.", config)
        embeddings.projection = prefix + "encoder.embedding_hidden_mapping_in"
        let layers = (0..<config.numHiddenLayers).flatMap { [prefix] i -> [TransformerLayer] in
            let group = Int(Double(i) / (Double(config.numHiddenLayers) / Double(groups)))
            return (0..<inner).map { j in
                let p = "\(prefix)encoder.albert_layer_groups.\(group).albert_layers.\(j)."
                var layer = TransformerLayer(bertStyle: TransformerLayerNames(
                    projections: .separate(query: p + "attention.query", key: p + "attention.key", value: p + "attention.value"),
                    attentionOutput: p + "attention.dense", attentionNorm: p + "attention.LayerNorm",
                    intermediate: p + "ffn", output: p + "ffn_output", outputNorm: p + "full_layer_layer_norm"), config)
                layer.mlpOutputDropout = 0
                return layer
            }
        }
        stack = TransformerStack(embeddings: embeddings, layers: layers)
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: config.typeVocabSize,
                                       width: embeddingSize, hidden: h)
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize)
            + [(prefix + "pooler.weight", [h, h]), (prefix + "pooler.bias", [h])]
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        .pooler(prefix + "pooler", hidden: config.hiddenSize, labels: labels, dropout: classifierDropout)
    }
}
