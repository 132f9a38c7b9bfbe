import VerdictTensor

/// The checkpoint names of one post-LayerNorm transformer encoder layer; BERT and DistilBERT
/// compute the same thing under different names.
struct EncoderLayerNames {
    var query, key, value, attentionOutput, attentionNorm, intermediate, output, outputNorm: String

    static func bert(_ prefix: String) -> EncoderLayerNames {
        EncoderLayerNames(query: prefix + "attention.self.query", key: prefix + "attention.self.key", value: prefix + "attention.self.value",
                          attentionOutput: prefix + "attention.output.dense", attentionNorm: prefix + "attention.output.LayerNorm",
                          intermediate: prefix + "intermediate.dense", output: prefix + "output.dense", outputNorm: prefix + "output.LayerNorm")
    }

    static func distilBert(_ prefix: String) -> EncoderLayerNames {
        EncoderLayerNames(query: prefix + "attention.q_lin", key: prefix + "attention.k_lin", value: prefix + "attention.v_lin",
                          attentionOutput: prefix + "attention.out_lin", attentionNorm: prefix + "sa_layer_norm",
                          intermediate: prefix + "ffn.lin1", output: prefix + "ffn.lin2", outputNorm: prefix + "output_layer_norm")
    }

    /// (name, shape) of every parameter, for initialisation and checks.
    func shapes(hidden: Int, intermediate i: Int) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        for l in [query, key, value, attentionOutput] { out += [(l + ".weight", [hidden, hidden]), (l + ".bias", [hidden])] }
        out += [(attentionNorm + ".weight", [hidden]), (attentionNorm + ".bias", [hidden])]
        out += [(intermediate + ".weight", [i, hidden]), (intermediate + ".bias", [i])]
        out += [(output + ".weight", [hidden, i]), (output + ".bias", [hidden])]
        out += [(outputNorm + ".weight", [hidden]), (outputNorm + ".bias", [hidden])]
        return out
    }
}

/// One encoder layer, forward and backward side by side:
///
///     x1 = LayerNorm(x + Dropout(Attention(x) Wₒ))
///     y  = LayerNorm(x1 + Dropout(act(x1 W₁) W₂))
struct EncoderLayer {
    let names: EncoderLayerNames
    let heads: Int
    let activation: Activation
    let eps: Float
    let hiddenDropout: Float
    let attentionDropout: Float

    /// Activations the backward pass reads.
    struct Cache {
        var x: Tensor
        var attention: PackedAttention.Cache
        var context: Tensor
        var attentionDrop: [Float]?
        var residual1: Tensor, norm1: Ops.LayerNormCache, x1: Tensor
        var preActivation: Tensor, activated: Tensor
        var outputDrop: [Float]?
        var residual2: Tensor, norm2: Ops.LayerNormCache
    }

    func forward(_ x: Tensor, offsets: [Int], _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, Cache?) {
        let q = p.linear(x, names.query), k = p.linear(x, names.key), v = p.linear(x, names.value)
        let (context, attentionCache) = PackedAttention.forward(q: q, k: k, v: v, offsets: offsets, heads: heads,
                                                                dropout: attentionDropout, rng: &rng, keepCache: keepCache)
        var attended = p.linear(context, names.attentionOutput)
        let attentionDrop = Dropout.mask(count: attended.count, p: hiddenDropout, rng: &rng)
        Dropout.apply(&attended, attentionDrop)
        let residual1 = Ops.add(attended, x)
        let (x1, norm1) = p.layerNorm(residual1, names.attentionNorm, eps: eps)

        let preActivation = p.linear(x1, names.intermediate)
        let activated = Ops.activate(preActivation, activation)
        var out = p.linear(activated, names.output)
        let outputDrop = Dropout.mask(count: out.count, p: hiddenDropout, rng: &rng)
        Dropout.apply(&out, outputDrop)
        let residual2 = Ops.add(out, x1)
        let (y, norm2) = p.layerNorm(residual2, names.outputNorm, eps: eps)
        guard keepCache, let attentionCache else { return (y, nil) }
        return (y, Cache(x: x, attention: attentionCache, context: context, attentionDrop: attentionDrop,
                         residual1: residual1, norm1: norm1, x1: x1, preActivation: preActivation, activated: activated,
                         outputDrop: outputDrop, residual2: residual2, norm2: norm2))
    }

    func backward(_ dy: Tensor, cache c: Cache, offsets: [Int], _ p: ParameterStore, grads: inout ParameterStore) -> Tensor {
        var dResidual2 = p.layerNormBackward(dy, input: c.residual2, cache: c.norm2, names.outputNorm, grads: &grads)
        var dx1 = dResidual2
        Dropout.apply(&dResidual2, c.outputDrop)
        let dActivated = p.linearBackward(dResidual2, input: c.activated, names.output, grads: &grads)!
        let dPre = Ops.activationBackward(dActivated, input: c.preActivation, activation)
        Ops.addInPlace(&dx1, p.linearBackward(dPre, input: c.x1, names.intermediate, grads: &grads)!)

        var dResidual1 = p.layerNormBackward(dx1, input: c.residual1, cache: c.norm1, names.attentionNorm, grads: &grads)
        var dx = dResidual1
        Dropout.apply(&dResidual1, c.attentionDrop)
        let dContext = p.linearBackward(dResidual1, input: c.context, names.attentionOutput, grads: &grads)!
        let (dq, dk, dv) = PackedAttention.backward(dContext, cache: c.attention, offsets: offsets, heads: heads)
        Ops.addInPlace(&dx, p.linearBackward(dq, input: c.x, names.query, grads: &grads)!)
        Ops.addInPlace(&dx, p.linearBackward(dk, input: c.x, names.key, grads: &grads)!)
        Ops.addInPlace(&dx, p.linearBackward(dv, input: c.x, names.value, grads: &grads)!)
        return dx
    }
}
