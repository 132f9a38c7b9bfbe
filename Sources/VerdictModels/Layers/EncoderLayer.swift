import VerdictTensor

/// The checkpoint names of one transformer encoder layer. The families compute the same few
/// things under different names; `nil` marks a part the family does not have.
struct EncoderLayerNames {
    /// Separate `query`/`key`/`value` projections, or one fused `[3·hidden, hidden]` projection.
    enum Projections {
        case separate(query: String, key: String, value: String)
        case fused(String)
    }

    var projections: Projections
    var attentionOutput: String
    /// The norm around attention: after the residual (post-norm) or before attention (pre-norm;
    /// `nil` for ModernBERT's first layer, whose input is already normalised).
    var attentionNorm: String?
    /// `Linear` into the MLP (twice as wide for gated MLPs), and out of it.
    var intermediate: String, output: String
    /// The norm around the MLP.
    var outputNorm: String

    static func bert(_ prefix: String) -> EncoderLayerNames {
        EncoderLayerNames(projections: .separate(query: prefix + "attention.self.query", key: prefix + "attention.self.key",
                                                 value: prefix + "attention.self.value"),
                          attentionOutput: prefix + "attention.output.dense", attentionNorm: prefix + "attention.output.LayerNorm",
                          intermediate: prefix + "intermediate.dense", output: prefix + "output.dense", outputNorm: prefix + "output.LayerNorm")
    }

    static func distilBert(_ prefix: String) -> EncoderLayerNames {
        EncoderLayerNames(projections: .separate(query: prefix + "attention.q_lin", key: prefix + "attention.k_lin", value: prefix + "attention.v_lin"),
                          attentionOutput: prefix + "attention.out_lin", attentionNorm: prefix + "sa_layer_norm",
                          intermediate: prefix + "ffn.lin1", output: prefix + "ffn.lin2", outputNorm: prefix + "output_layer_norm")
    }

    /// The projections' names, in q, k, v order.
    var projectionNames: [String] {
        switch projections {
        case let .separate(q, k, v): return [q, k, v]
        case let .fused(qkv): return [qkv]
        }
    }
}

/// One encoder layer, forward and backward side by side. Post-norm (BERT and most encoders):
///
///     x1 = Norm(x + Dropout(Attention(x) Wₒ))
///     y  = Norm(x1 + Dropout(MLP(x1)))
///
/// Pre-norm (ModernBERT):
///
///     x1 = x + Dropout(Attention(Norm(x)) Wₒ)
///     y  = x1 + MLP(Norm(x1))
///
/// with `MLP(h) = act(h W₁) W₂`, or gated `(act(h W_in) ⊙ (h W_gate)) W₂` where `W₁` holds
/// `[W_in; W_gate]` (GeGLU, SwiGLU). With disentangled attention (DeBERTa) the layer also projects
/// the stack's shared relative embeddings and returns their gradient.
struct EncoderLayer {
    enum Placement { case postNorm, preNorm }
    enum MLPKind { case dense, gated }

    let names: EncoderLayerNames
    var placement = Placement.postNorm
    let attention: AttentionOptions
    var rotary: Rotary? = nil
    /// Longformer's local + global attention, which replaces the q/k/v projections and `attention`.
    var slidingWindow: SlidingWindowAttention? = nil
    var mlp = MLPKind.dense
    let activation: Activation
    let eps: Float
    /// Dropout on the probabilities, after the attention output projection, inside the MLP
    /// (after the activation) and after the MLP.
    var attentionDropout: Float
    var attentionOutputDropout: Float
    var mlpHiddenDropout: Float = 0
    var mlpOutputDropout: Float

    init(names: EncoderLayerNames, attention: AttentionOptions, activation: Activation, eps: Float,
         hiddenDropout: Float, attentionDropout: Float) {
        self.names = names; self.attention = attention; self.activation = activation; self.eps = eps
        self.attentionDropout = attentionDropout; attentionOutputDropout = hiddenDropout; mlpOutputDropout = hiddenDropout
    }

    /// Activations the backward pass reads.
    struct Cache {
        var x: Tensor
        var attentionInput: Tensor, attentionInputNorm: Ops.LayerNormCache?
        var attention: PackedAttention.Cache?
        var positional: DisentangledAttention.Cache?
        var windowed: SlidingWindowAttention.Cache?
        var context: Tensor
        var attentionDrop: [Float]?
        var residual1: Tensor, norm1: Ops.LayerNormCache?, x1: Tensor
        var mlpInput: Tensor, mlpInputNorm: Ops.LayerNormCache?
        var preActivation: Tensor, activated: Tensor, hiddenDrop: [Float]?
        var outputDrop: [Float]?
        var residual2: Tensor, norm2: Ops.LayerNormCache?
    }

    /// `relative`: the relative-position embeddings of disentangled attention (`RelativeEmbeddings`).
    func forward(_ x: Tensor, batch: PackedBatch, positions: [Int32], relative: Tensor? = nil, _ p: ParameterStore,
                 rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, Cache?) {
        let pre = placement == .preNorm
        var attentionInput = x, attentionInputNorm: Ops.LayerNormCache? = nil
        if pre, let norm = names.attentionNorm { (attentionInput, attentionInputNorm) = p.layerNorm(x, norm, eps: eps) }
        let context: Tensor
        var attentionCache: PackedAttention.Cache? = nil, positionalCache: DisentangledAttention.Cache? = nil
        var windowedCache: SlidingWindowAttention.Cache? = nil
        if let slidingWindow {
            (context, windowedCache) = slidingWindow.forward(attentionInput, offsets: batch.offsets, isGlobal: batch.globalAttentionFlags, p,
                                                             dropout: attentionDropout, rng: &rng, keepCache: keepCache)
        } else {
            var (q, k, v) = project(attentionInput, p)
            if let rotary {
                rotary.rotate(&q, positions: positions)
                rotary.rotate(&k, positions: positions)
            }
            var positional: DisentangledAttention.Projected? = nil
            if let terms = attention.disentangled, let relative {
                let longest = batch.lengths.max() ?? 0
                (positional, positionalCache) = terms.project(relative, rows: terms.rowsUsed(length: longest), p, rng: &rng)
            }
            (context, attentionCache) = PackedAttention.forward(q: q, k: k, v: v, positional: positional, offsets: batch.offsets,
                                                                options: attention, p, dropout: attentionDropout, rng: &rng, keepCache: keepCache)
        }
        var attended = p.linear(context, names.attentionOutput)
        let attentionDrop = Dropout.mask(count: attended.count, p: attentionOutputDropout, rng: &rng)
        Dropout.apply(&attended, attentionDrop)
        let residual1 = Ops.add(attended, x)
        var x1 = residual1, norm1: Ops.LayerNormCache? = nil
        if !pre, let norm = names.attentionNorm { (x1, norm1) = p.layerNorm(residual1, norm, eps: eps) }

        var mlpInput = x1, mlpInputNorm: Ops.LayerNormCache? = nil
        if pre { (mlpInput, mlpInputNorm) = p.layerNorm(x1, names.outputNorm, eps: eps) }
        let preActivation = p.linear(mlpInput, names.intermediate)
        var activated = activate(preActivation)
        let hiddenDrop = Dropout.mask(count: activated.count, p: mlpHiddenDropout, rng: &rng)
        Dropout.apply(&activated, hiddenDrop)
        var out = p.linear(activated, names.output)
        let outputDrop = Dropout.mask(count: out.count, p: mlpOutputDropout, rng: &rng)
        Dropout.apply(&out, outputDrop)
        let residual2 = Ops.add(out, x1)
        var y = residual2, norm2: Ops.LayerNormCache? = nil
        if !pre { (y, norm2) = p.layerNorm(residual2, names.outputNorm, eps: eps) }
        guard keepCache, attentionCache != nil || windowedCache != nil else { return (y, nil) }
        return (y, Cache(x: x, attentionInput: attentionInput, attentionInputNorm: attentionInputNorm, attention: attentionCache,
                         positional: positionalCache, windowed: windowedCache, context: context, attentionDrop: attentionDrop, residual1: residual1, norm1: norm1, x1: x1,
                         mlpInput: mlpInput, mlpInputNorm: mlpInputNorm, preActivation: preActivation, activated: activated,
                         hiddenDrop: hiddenDrop, outputDrop: outputDrop, residual2: residual2, norm2: norm2))
    }

    /// Returns the gradient of the layer's input; disentangled attention adds the gradient of the
    /// relative embeddings to `dRelative`.
    func backward(_ dy: Tensor, cache c: Cache, batch: PackedBatch, positions: [Int32], _ p: ParameterStore,
                  grads: inout ParameterStore, dRelative: inout Tensor?) -> Tensor {
        var dResidual2 = dy
        if let norm2 = c.norm2 { dResidual2 = p.layerNormBackward(dy, input: c.residual2, cache: norm2, names.outputNorm, grads: &grads) }
        var dx1 = dResidual2
        Dropout.apply(&dResidual2, c.outputDrop)
        var dActivated = p.linearBackward(dResidual2, input: c.activated, names.output, grads: &grads)!
        Dropout.apply(&dActivated, c.hiddenDrop)
        let dPre = activationBackward(dActivated, input: c.preActivation)
        var dMLPInput = p.linearBackward(dPre, input: c.mlpInput, names.intermediate, grads: &grads)!
        if let norm = c.mlpInputNorm { dMLPInput = p.layerNormBackward(dMLPInput, input: c.x1, cache: norm, names.outputNorm, grads: &grads) }
        Ops.addInPlace(&dx1, dMLPInput)

        var dResidual1 = dx1
        if let norm1 = c.norm1, let name = names.attentionNorm {
            dResidual1 = p.layerNormBackward(dx1, input: c.residual1, cache: norm1, name, grads: &grads)
        }
        var dx = dResidual1
        Dropout.apply(&dResidual1, c.attentionDrop)
        let dContext = p.linearBackward(dResidual1, input: c.context, names.attentionOutput, grads: &grads)!
        var dAttentionInput: Tensor
        if let slidingWindow, let windowed = c.windowed {
            dAttentionInput = slidingWindow.backward(dContext, cache: windowed, isGlobal: batch.globalAttentionFlags, p, grads: &grads)
        } else if let attentionCache = c.attention {
            var (dq, dk, dv, dPositional) = PackedAttention.backward(dContext, cache: attentionCache, offsets: batch.offsets, options: attention,
                                                                     grads: &grads)
            if let terms = attention.disentangled, let dPositional, let positionalCache = c.positional {
                let dThis = terms.projectBackward(dPositional, cache: positionalCache, p, grads: &grads)
                dRelative = dRelative.map { Ops.add($0, dThis) } ?? dThis
            }
            if let rotary {
                rotary.rotate(&dq, positions: positions, inverse: true)
                rotary.rotate(&dk, positions: positions, inverse: true)
            }
            dAttentionInput = projectBackward(dq, dk, dv, input: c.attentionInput, p, grads: &grads)
        } else {
            preconditionFailure("EncoderLayer.backward: the cache holds no attention activations")
        }
        if let norm = c.attentionInputNorm, let name = names.attentionNorm {
            dAttentionInput = p.layerNormBackward(dAttentionInput, input: c.x, cache: norm, name, grads: &grads)
        }
        Ops.addInPlace(&dx, dAttentionInput)
        return dx
    }

    // MARK: Projections

    private func project(_ x: Tensor, _ p: ParameterStore) -> (Tensor, Tensor, Tensor) {
        switch names.projections {
        case let .separate(query, key, value):
            return (p.linear(x, query), p.linear(x, key), p.linear(x, value))
        case let .fused(qkv):
            let parts = Ops.splitColumns(p.linear(x, qkv), into: 3)
            return (parts[0], parts[1], parts[2])
        }
    }

    private func projectBackward(_ dq: Tensor, _ dk: Tensor, _ dv: Tensor, input x: Tensor, _ p: ParameterStore,
                                 grads: inout ParameterStore) -> Tensor {
        switch names.projections {
        case let .separate(query, key, value):
            var dx = p.linearBackward(dq, input: x, query, grads: &grads)!
            Ops.addInPlace(&dx, p.linearBackward(dk, input: x, key, grads: &grads)!)
            Ops.addInPlace(&dx, p.linearBackward(dv, input: x, value, grads: &grads)!)
            return dx
        case let .fused(qkv):
            return p.linearBackward(Ops.concatenateColumns([dq, dk, dv]), input: x, qkv, grads: &grads)!
        }
    }

    // MARK: MLP activation

    private func activate(_ z: Tensor) -> Tensor {
        guard mlp == .gated else { return Ops.activate(z, activation) }
        let parts = Ops.splitColumns(z, into: 2)
        return Ops.multiply(Ops.activate(parts[0], activation), parts[1])
    }

    private func activationBackward(_ dy: Tensor, input z: Tensor) -> Tensor {
        guard mlp == .gated else { return Ops.activationBackward(dy, input: z, activation) }
        let parts = Ops.splitColumns(z, into: 2)
        let dInput = Ops.activationBackward(Ops.multiply(dy, parts[1]), input: parts[0], activation)
        let dGate = Ops.multiply(dy, Ops.activate(parts[0], activation))
        return Ops.concatenateColumns([dInput, dGate])
    }

    // MARK: Shapes

    /// (name, shape) of every parameter.
    func shapes(hidden: Int, intermediate i: Int, attentionBias: Bool = true, mlpBias: Bool = true, normBias: Bool = true) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        func linear(_ name: String, _ o: Int, _ inputs: Int) {
            out.append((name + ".weight", [o, inputs]))
            let isAttention = names.projectionNames.contains(name) || name == names.attentionOutput
            if isAttention ? attentionBias : mlpBias { out.append((name + ".bias", [o])) }
        }
        func norm(_ name: String) {
            out.append((name + ".weight", [hidden]))
            if normBias { out.append((name + ".bias", [hidden])) }
        }
        if placement == .preNorm, let n = names.attentionNorm { norm(n) }
        for name in names.projectionNames { linear(name, names.projectionNames.count == 1 ? 3 * hidden : hidden, hidden) }
        linear(names.attentionOutput, hidden, hidden)
        if placement == .postNorm, let n = names.attentionNorm { norm(n) }
        if placement == .preNorm { norm(names.outputNorm) }
        linear(names.intermediate, mlp == .gated ? 2 * i : i, hidden)
        linear(names.output, hidden, i)
        if placement == .postNorm { norm(names.outputNorm) }
        return out
    }
}
