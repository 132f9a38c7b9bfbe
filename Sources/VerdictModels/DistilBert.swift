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
public struct DistilBertModel: EncoderModel {
    public let config: ModelConfig
    public let prefix = "distilbert."
    let embeddings: Embeddings
    let layers: [EncoderLayer]

    public init(config: ModelConfig) {
        self.config = config
        let e = prefix + "embeddings."
        embeddings = Embeddings(word: e + "word_embeddings.weight", position: e + "position_embeddings.weight", tokenType: nil,
                                norm: e + "LayerNorm", eps: config.layerNormEps, dropout: config.hiddenDropoutProb)
        layers = (0..<config.numHiddenLayers).map { [prefix] i in
            EncoderLayer(names: .distilBert("\(prefix)transformer.layer.\(i)."), heads: config.numAttentionHeads, activation: config.hiddenAct,
                         eps: config.layerNormEps, hiddenDropout: config.hiddenDropoutProb, attentionDropout: config.attentionProbsDropoutProb)
        }
    }

    public var parameterShapes: [(String, [Int])] {
        embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: 0, hidden: config.hiddenSize)
            + layers.flatMap { $0.names.shapes(hidden: config.hiddenSize, intermediate: config.intermediateSize) }
    }

    /// Sinusoidal position embeddings are constants (stored in checkpoints, never trained).
    public var buffers: Set<String> { config.sinusoidalPositionEmbeddings ? [embeddings.position] : [] }

    public func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, EncoderCache?) {
        runEncoder(batch, embeddings: embeddings, layers: layers, p, rng: &rng, keepCache: keepCache)
    }

    public func backward(_ dHidden: Tensor, cache: EncoderCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        backpropEncoder(dHidden, cache: cache, batch: batch, embeddings: embeddings, layers: layers, p, grads: &grads)
    }
}
