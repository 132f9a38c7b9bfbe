/// Where a family's `config.json` keeps the settings every family has (`ModelConfig`'s common
/// fields), and the family's defaults: `transformers`' `attribute_map` (GPT-2 says `n_embd` for
/// `hidden_size`, DistilBERT `dim`). Most families use BERT's names (`ConfigAttributes()`); a
/// family with other names declares its map in its own file (`DistilBertModel.configAttributes`)
/// and registers it in `ModelConfig.attributes(of:)`.
struct ConfigAttributes {
    /// A size: its key and, when the key may be missing, the default.
    struct Size {
        var key: String
        var defaultValue: Int?
        init(_ key: String, _ defaultValue: Int? = nil) { self.key = key; self.defaultValue = defaultValue }
    }

    /// A float setting: its key (nil: the family has no such key and always uses the default).
    struct Value {
        var key: String?
        var defaultValue: Float
        init(_ key: String?, _ defaultValue: Float) { self.key = key; self.defaultValue = defaultValue }
    }

    var vocabSize = Size("vocab_size")
    var hiddenSize = Size("hidden_size")
    var numHiddenLayers = Size("num_hidden_layers")
    var numAttentionHeads = Size("num_attention_heads")
    var intermediateSize = Size("intermediate_size")
    /// When set, a missing or null intermediate size is this many times the hidden size (GPT-2's `n_inner`).
    var intermediateTimesHidden: Int? = nil
    var maxPositionEmbeddings = Size("max_position_embeddings", 512)
    var hiddenAct = "hidden_act"
    /// The token-type table's size key; nil: the family has none.
    var typeVocabSize: Size? = Size("type_vocab_size", 2)
    var layerNormEps = Value("layer_norm_eps", 1e-12)
    var hiddenDropout = Value("hidden_dropout_prob", 0.1)
    var attentionDropout = Value("attention_probs_dropout_prob", 0.1)
    /// The classifier's dropout; nil key with `classifierDropoutFollowsHidden`: the hidden dropout (BERT's `classifier_dropout: null`).
    var classifierDropout = Value("classifier_dropout", 0)
    var classifierDropoutFollowsHidden = true
    /// The key that turns on fixed sinusoidal position embeddings (DistilBERT's `sinusoidal_pos_embds`).
    var sinusoidalPositions: String? = nil
}

extension ModelConfig {
    /// The attribute map of `modelType`: the family's own, else BERT's names.
    static func attributes(of modelType: String) -> ConfigAttributes {
        switch modelType {
        case "distilbert": return DistilBertModel.configAttributes
        case "gpt2": return Gpt2Model.configAttributes
        case "mbart": return MBartModel.configAttributes
        default: return ConfigAttributes()
        }
    }
}
