import VerdictHub
import VerdictJSON
import VerdictTensor

/// MPNet (Song et al., 2020) as `transformers`' `MPNetModel`: word + position embeddings
/// (fairseq position ids after padding index 1, no token types), post-norm layers whose
/// attention scores get a bucketed relative-position bias shared by all layers
/// (`RelativePositionBias`).
///
/// Names (under `mpnet.`):
///
///     embeddings.{word_embeddings,position_embeddings}.weight, embeddings.LayerNorm.{weight,bias}
///     encoder.relative_attention_bias.weight                        [buckets, heads]
///     encoder.layer.<i>.attention.attn.{q,k,v,o}.{weight,bias}, encoder.layer.<i>.attention.LayerNorm.{weight,bias}
///     encoder.layer.<i>.intermediate.dense.{weight,bias}, encoder.layer.<i>.output.{dense,LayerNorm}.{weight,bias}
///
/// Head (`MPNetClassificationHead`): `<s>` → Dropout → `classifier.dense` → tanh → Dropout →
/// `classifier.out_proj`. The base model's pooler is not used by the classifier and not loaded.
public struct MPNetModel: Backbone {
    public let config: ModelConfig
    public let prefix = "mpnet."
    public let stack: TransformerStack
    public var classifierArchitecture: String { "MPNetForSequenceClassification" }
    let buckets: Int

    public init(config: ModelConfig) throws {
        self.config = config
        buckets = try config.field { try $0.int("relative_attention_num_buckets", default: 32) }
        guard buckets >= 32 else {
            throw CheckpointError.invalidConfig(file: config.file, path: "$.relative_attention_num_buckets",
                                                expected: "at least 32 (transformers always looks up 32 buckets)")
        }
        let bias = RelativePositionBias(table: prefix + "encoder.relative_attention_bias.weight")
        var embeddings = Embeddings.bert(prefix + "embeddings.", config, positionIds: .afterPadding(1))
        embeddings.tokenType = nil
        stack = TransformerStack(embeddings: embeddings, layers: (0..<config.numHiddenLayers).map { [prefix] i in
            let p = "\(prefix)encoder.layer.\(i)."
            return TransformerLayer(bertStyle: TransformerLayerNames(
                projections: .separate(query: p + "attention.attn.q", key: p + "attention.attn.k", value: p + "attention.attn.v"),
                attentionOutput: p + "attention.attn.o", attentionNorm: p + "attention.LayerNorm",
                intermediate: p + "intermediate.dense", output: p + "output.dense", outputNorm: p + "output.LayerNorm"), config, relativeBias: bias)
        })
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: 0, width: h, hidden: h)
            + [(prefix + "encoder.relative_attention_bias.weight", [buckets, config.numAttentionHeads])]
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize)
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        .denseOutProj(hidden: config.hiddenSize, labels: labels, activation: .tanh, dropout: config.classifierDropout)
    }
}
