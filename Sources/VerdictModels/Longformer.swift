import VerdictHub
import VerdictJSON
import VerdictTensor

/// Longformer (Beltagy et al., 2020) as `transformers`' `LongformerModel`: RoBERTa's embeddings
/// (fairseq position ids) and post-norm layers whose attention is `SlidingWindowAttention`:
/// each token attends to `attention_window / 2` tokens on either side plus the global tokens,
/// and global tokens attend to everything through their own projections. The classifier puts
/// global attention on the first token of each sequence, as `LongformerForSequenceClassification`
/// does when given no `global_attention_mask`; the base model (`AutoModel`) uses the batch's
/// `globalAttention`, none by default.
///
/// Padding: `transformers` pads every sequence to a multiple of `attention_window` with
/// `pad_token_id` and masks those tokens out. Verdict's packed sequences are never padded: the
/// windows simply end at each sequence's last token, which gives the real tokens the same result.
///
/// Names (under `longformer.`): as `RobertaModel`, plus
///
///     encoder.layer.<i>.attention.self.{query_global,key_global,value_global}.{weight,bias}
///
/// Head (`LongformerClassificationHead`): `<s>` → Dropout → `classifier.dense` → tanh → Dropout →
/// `classifier.out_proj`.
public struct LongformerModel: Backbone {
    public let config: ModelConfig
    public let prefix = "longformer."
    public let stack: TransformerStack
    public var classifierArchitecture: String { "LongformerForSequenceClassification" }
    public var classifierGlobalAttention: Bool { true }

    public init(config: ModelConfig) throws {
        self.config = config
        let windows: [Int] = try config.field { c in
            let node = try c.required("attention_window")
            let perLayer: [Int]  // one window for all layers, or a list with one per layer (as transformers requires)
            if case .array = node.value { perLayer = try node.array().map { try $0.int() } } else {
                perLayer = Array(repeating: try node.int(), count: config.numHiddenLayers)
            }
            guard perLayer.count == config.numHiddenLayers, perLayer.allSatisfy({ $0 > 0 && $0 % 2 == 0 }) else {
                throw node.fail("a positive even window, or one per layer (\(config.numHiddenLayers))")
            }
            return perLayer
        }
        stack = TransformerStack(embeddings: .bert(prefix + "embeddings.", config, positionIds: .afterPadding(Int32(config.padTokenId))),
                             layers: (0..<config.numHiddenLayers).map { [prefix] i in
                                 let p = "\(prefix)encoder.layer.\(i)."
                                 var layer = TransformerLayer(bertStyle: .bert(p), config)
                                 layer.attentionKind = .slidingWindow(SlidingWindowAttention(heads: config.numAttentionHeads, window: windows[i] / 2,
                                                                                             prefix: p + "attention.self."))
                                 return layer
                             })
    }

    public var parameterShapes: [(String, [Int])] {
        let h = config.hiddenSize
        let globals = stack.layers.flatMap { layer in
            (layer.slidingWindow?.global ?? []).flatMap { [($0 + ".weight", [h, h]), ($0 + ".bias", [h])] }
        }
        return stack.embeddings.shapes(vocab: config.vocabSize, positions: config.maxPositionEmbeddings, types: config.typeVocabSize, width: h, hidden: h)
            + stack.layerShapes(hidden: h, intermediate: config.intermediateSize) + globals
    }

    public func classificationHead(labels: Int) -> ClassificationHead {
        .denseOutProj(hidden: config.hiddenSize, labels: labels, activation: .tanh, dropout: config.classifierDropout)
    }
}
