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
public struct BertModel: EncoderModel {
    public let config: ModelConfig
    public let prefix = "bert."
    public var hasPooler: Bool { true }
    let embeddings: Embeddings
    let layers: [EncoderLayer]

    public init(config: ModelConfig) {
        self.config = config
        let e = prefix + "embeddings."
        embeddings = Embeddings(word: e + "word_embeddings.weight", position: e + "position_embeddings.weight",
                                tokenType: e + "token_type_embeddings.weight", norm: e + "LayerNorm",
                                eps: config.layerNormEps, dropout: config.hiddenDropoutProb)
        layers = (0..<config.numHiddenLayers).map { [prefix] i in
            EncoderLayer(names: .bert("\(prefix)encoder.layer.\(i)."), heads: config.numAttentionHeads, activation: config.hiddenAct,
                         eps: config.layerNormEps, hiddenDropout: config.hiddenDropoutProb, attentionDropout: config.attentionProbsDropoutProb)
        }
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        return embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: config.typeVocabSize, hidden: h)
            + layers.flatMap { $0.names.shapes(hidden: h, intermediate: config.intermediateSize) }
            + [(poolerName + ".weight", [h, h]), (poolerName + ".bias", [h])]
    }

    public func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, EncoderCache?) {
        runEncoder(batch, embeddings: embeddings, layers: layers, p, rng: &rng, keepCache: keepCache)
    }

    public func backward(_ dHidden: Tensor, cache: EncoderCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        backpropEncoder(dHidden, cache: cache, batch: batch, embeddings: embeddings, layers: layers, p, grads: &grads)
    }
}
