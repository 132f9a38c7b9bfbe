import VerdictTensor

/// The checkpoint names of one transformer layer. The families compute the same few things under
/// different names; `nil` marks a part the family does not have.
struct TransformerLayerNames {
    /// Separate `query`/`key`/`value` projections, or one fused `[q | k | v]` projection.
    enum Projections {
        case separate(query: String, key: String, value: String)
        case fused(String)
    }

    var projections: Projections
    var attentionOutput: String
    /// The norm around attention: after the residual (post-norm) or before attention (pre-norm;
    /// `nil` for ModernBERT's first layer, whose input is already normalised).
    var attentionNorm: String?
    /// `Linear` into the MLP (twice as wide for gated MLPs with one input projection), and out of it.
    var intermediate: String, output: String
    /// The norm around the MLP.
    var outputNorm: String
    /// The gate of a gated MLP whose gate and up projections are separate (LLaMA's `gate_proj`;
    /// `intermediate` is then `up_proj`).
    var gate: String? = nil
    /// RMSNorms over each head of q and of k, before rotary (Qwen3's `q_norm`, `k_norm`).
    var queryNorm: String? = nil, keyNorm: String? = nil
    /// Attention to the encoder's output (the mBART decoder's `encoder_attn`).
    var crossAttention: CrossAttentionNames? = nil

    static func bert(_ prefix: String) -> TransformerLayerNames {
        TransformerLayerNames(projections: .separate(query: prefix + "attention.self.query", key: prefix + "attention.self.key",
                                                     value: prefix + "attention.self.value"),
                              attentionOutput: prefix + "attention.output.dense", attentionNorm: prefix + "attention.output.LayerNorm",
                              intermediate: prefix + "intermediate.dense", output: prefix + "output.dense", outputNorm: prefix + "output.LayerNorm")
    }

    static func distilBert(_ prefix: String) -> TransformerLayerNames {
        TransformerLayerNames(projections: .separate(query: prefix + "attention.q_lin", key: prefix + "attention.k_lin", value: prefix + "attention.v_lin"),
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

/// Names of a cross-attention block: queries from the layer, keys and values from the encoder.
struct CrossAttentionNames {
    var query: String, key: String, value: String, output: String
    var norm: String
}

/// One transformer layer, forward and backward side by side. Post-norm (BERT and most encoders):
///
///     x1 = Norm(x + Dropout(Attention(x) Wₒ))
///     y  = Norm(x1 + Dropout(MLP(x1)))
///
/// Pre-norm (GPT-2, LLaMA, ModernBERT, mBART):
///
///     x1 = x + Dropout(Attention(Norm(x)) Wₒ)
///     y  = x1 + Dropout(MLP(Norm(x1)))
///
/// with `MLP(h) = act(h W₁) W₂`, or gated `(act(h W_gate) ⊙ (h W_up)) W₂` (GeGLU, SwiGLU; one
/// fused `W₁ = [W_gate; W_up]` or two `Linear`s). Decoders mask attention causally; the mBART
/// decoder adds a cross-attention block (`x1 += Dropout(Attention(Norm(x1), memory) W'ₒ)`)
/// before the MLP. With disentangled attention (DeBERTa) the layer also projects the stack's
/// shared relative embeddings and returns their gradient.
struct TransformerLayer {
    enum Placement { case postNorm, preNorm }
    enum MLPKind { case dense, gated }

    let names: TransformerLayerNames
    var placement = Placement.postNorm
    var norm = NormKind.layerNorm
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

    init(names: TransformerLayerNames, attention: AttentionOptions, activation: Activation, eps: Float,
         hiddenDropout: Float, attentionDropout: Float) {
        self.names = names; self.attention = attention; self.activation = activation; self.eps = eps
        self.attentionDropout = attentionDropout; attentionOutputDropout = hiddenDropout; mlpOutputDropout = hiddenDropout
    }

    /// Activations the backward pass reads.
    struct Cache {
        var x: Tensor
        var attentionInput: Tensor, attentionInputNorm: Ops.LayerNormCache?
        var queryNorm: (input: Tensor, cache: Ops.LayerNormCache)?, keyNorm: (input: Tensor, cache: Ops.LayerNormCache)?
        var attention: PackedAttention.Cache?
        var positional: DisentangledAttention.Cache?
        var windowed: SlidingWindowAttention.Cache?
        var context: Tensor
        var attentionDrop: [Float]?
        var residual1: Tensor, norm1: Ops.LayerNormCache?
        /// The MLP block's input (after cross-attention, when there is one).
        var x1: Tensor
        var cross: CrossCache?
        var mlpInput: Tensor, mlpInputNorm: Ops.LayerNormCache?
        var preActivation: Tensor, activated: Tensor, hiddenDrop: [Float]?
        var outputDrop: [Float]?
        var residual2: Tensor, norm2: Ops.LayerNormCache?
    }

    /// Activations of the cross-attention block.
    struct CrossCache {
        var x: Tensor, input: Tensor, inputNorm: Ops.LayerNormCache?
        var attention: PackedAttention.Cache
        var context: Tensor, drop: [Float]?
        var residual: Tensor, norm: Ops.LayerNormCache?
    }

    /// `relative`: the relative-position embeddings of disentangled attention (`RelativeEmbeddings`);
    /// `memory`: the encoder's output, for cross-attention.
    func forward(_ x: Tensor, batch: PackedBatch, positions: [Int32], relative: Tensor? = nil, memory: Tensor? = nil, _ p: ParameterStore,
                 rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, Cache?) {
        let pre = placement == .preNorm
        var attentionInput = x, attentionInputNorm: Ops.LayerNormCache? = nil
        if pre, let name = names.attentionNorm { (attentionInput, attentionInputNorm) = p.norm(x, name, norm, eps: eps) }
        let context: Tensor
        var attentionCache: PackedAttention.Cache? = nil, positionalCache: DisentangledAttention.Cache? = nil
        var windowedCache: SlidingWindowAttention.Cache? = nil
        var queryNormCache: (Tensor, Ops.LayerNormCache)? = nil, keyNormCache: (Tensor, Ops.LayerNormCache)? = nil
        if let slidingWindow {
            (context, windowedCache) = slidingWindow.forward(attentionInput, offsets: batch.offsets, isGlobal: batch.globalAttentionFlags, p,
                                                             dropout: attentionDropout, rng: &rng, keepCache: keepCache)
        } else {
            var (q, k, v) = project(attentionInput, p)
            if let name = names.queryNorm { (q, queryNormCache) = headNorm(q, name, p) }
            if let name = names.keyNorm { (k, keyNormCache) = headNorm(k, name, p) }
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
        if !pre, let name = names.attentionNorm { (x1, norm1) = p.norm(residual1, name, norm, eps: eps) }

        var crossCache: CrossCache? = nil
        if let cross = names.crossAttention, let memory {
            (x1, crossCache) = crossAttend(x1, memory: memory, cross, batch: batch, p, rng: &rng, keepCache: keepCache)
        }

        var mlpInput = x1, mlpInputNorm: Ops.LayerNormCache? = nil
        if pre { (mlpInput, mlpInputNorm) = p.norm(x1, names.outputNorm, norm, eps: eps) }
        let preActivation = mlpInputProjection(mlpInput, p)
        var activated = activate(preActivation)
        let hiddenDrop = Dropout.mask(count: activated.count, p: mlpHiddenDropout, rng: &rng)
        Dropout.apply(&activated, hiddenDrop)
        var out = p.linear(activated, names.output)
        let outputDrop = Dropout.mask(count: out.count, p: mlpOutputDropout, rng: &rng)
        Dropout.apply(&out, outputDrop)
        let residual2 = Ops.add(out, x1)
        var y = residual2, norm2: Ops.LayerNormCache? = nil
        if !pre { (y, norm2) = p.norm(residual2, names.outputNorm, norm, eps: eps) }
        guard keepCache, attentionCache != nil || windowedCache != nil else { return (y, nil) }
        return (y, Cache(x: x, attentionInput: attentionInput, attentionInputNorm: attentionInputNorm, queryNorm: queryNormCache, keyNorm: keyNormCache,
                         attention: attentionCache, positional: positionalCache, windowed: windowedCache, context: context, attentionDrop: attentionDrop,
                         residual1: residual1, norm1: norm1, x1: x1, cross: crossCache,
                         mlpInput: mlpInput, mlpInputNorm: mlpInputNorm, preActivation: preActivation, activated: activated,
                         hiddenDrop: hiddenDrop, outputDrop: outputDrop, residual2: residual2, norm2: norm2))
    }

    /// Returns the gradient of the layer's input; disentangled attention adds the gradient of the
    /// relative embeddings to `dRelative`, cross-attention the gradient of the encoder's output
    /// to `dMemory`.
    func backward(_ dy: Tensor, cache c: Cache, batch: PackedBatch, positions: [Int32], memory: Tensor? = nil, _ p: ParameterStore,
                  grads: inout ParameterStore, dRelative: inout Tensor?, dMemory: inout Tensor?) -> Tensor {
        var dResidual2 = dy
        if let norm2 = c.norm2 { dResidual2 = p.normBackward(dy, input: c.residual2, cache: norm2, names.outputNorm, norm, grads: &grads) }
        var dx1 = dResidual2
        Dropout.apply(&dResidual2, c.outputDrop)
        var dActivated = p.linearBackward(dResidual2, input: c.activated, names.output, grads: &grads)!
        Dropout.apply(&dActivated, c.hiddenDrop)
        let dPre = activationBackward(dActivated, input: c.preActivation)
        var dMLPInput = mlpInputProjectionBackward(dPre, input: c.mlpInput, p, grads: &grads)
        if let cache = c.mlpInputNorm {
            dMLPInput = p.normBackward(dMLPInput, input: c.x1, cache: cache, names.outputNorm, norm, grads: &grads)
        }
        Ops.addInPlace(&dx1, dMLPInput)

        if let cross = names.crossAttention, let crossCache = c.cross, let memory {
            dx1 = crossAttendBackward(dx1, cache: crossCache, memory: memory, cross, batch: batch, p, grads: &grads, dMemory: &dMemory)
        }

        var dResidual1 = dx1
        if let norm1 = c.norm1, let name = names.attentionNorm {
            dResidual1 = p.normBackward(dx1, input: c.residual1, cache: norm1, name, norm, grads: &grads)
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
            if let name = names.queryNorm, let (input, cache) = c.queryNorm { dq = headNormBackward(dq, input: input, cache: cache, name, p, grads: &grads) }
            if let name = names.keyNorm, let (input, cache) = c.keyNorm { dk = headNormBackward(dk, input: input, cache: cache, name, p, grads: &grads) }
            dAttentionInput = projectBackward(dq, dk, dv, input: c.attentionInput, p, grads: &grads)
        } else {
            preconditionFailure("TransformerLayer.backward: the cache holds no attention activations")
        }
        if let cache = c.attentionInputNorm, let name = names.attentionNorm {
            dAttentionInput = p.normBackward(dAttentionInput, input: c.x, cache: cache, name, norm, grads: &grads)
        }
        Ops.addInPlace(&dx, dAttentionInput)
        return dx
    }

    // MARK: Cross-attention

    private var crossOptions: AttentionOptions { AttentionOptions(heads: attention.heads, headDim: attention.headDim) }

    private func crossAttend(_ x: Tensor, memory: Tensor, _ names: CrossAttentionNames, batch: PackedBatch, _ p: ParameterStore,
                             rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, CrossCache?) {
        let pre = placement == .preNorm
        var input = x, inputNorm: Ops.LayerNormCache? = nil
        if pre { (input, inputNorm) = p.norm(x, names.norm, norm, eps: eps) }
        let (context, attentionCache) = PackedAttention.forward(q: p.linear(input, names.query), k: p.linear(memory, names.key),
                                                                v: p.linear(memory, names.value), offsets: batch.offsets, options: crossOptions, p,
                                                                dropout: attentionDropout, rng: &rng, keepCache: keepCache)
        var attended = p.linear(context, names.output)
        let drop = Dropout.mask(count: attended.count, p: attentionOutputDropout, rng: &rng)
        Dropout.apply(&attended, drop)
        let residual = Ops.add(attended, x)
        var y = residual, outputNorm: Ops.LayerNormCache? = nil
        if !pre { (y, outputNorm) = p.norm(residual, names.norm, norm, eps: eps) }
        guard keepCache, let attentionCache else { return (y, nil) }
        return (y, CrossCache(x: x, input: input, inputNorm: inputNorm, attention: attentionCache, context: context, drop: drop,
                              residual: residual, norm: outputNorm))
    }

    private func crossAttendBackward(_ dy: Tensor, cache c: CrossCache, memory: Tensor, _ names: CrossAttentionNames, batch: PackedBatch,
                                     _ p: ParameterStore, grads: inout ParameterStore, dMemory: inout Tensor?) -> Tensor {
        var dResidual = dy
        if let cache = c.norm { dResidual = p.normBackward(dy, input: c.residual, cache: cache, names.norm, norm, grads: &grads) }
        var dx = dResidual
        Dropout.apply(&dResidual, c.drop)
        let dContext = p.linearBackward(dResidual, input: c.context, names.output, grads: &grads)!
        let (dq, dk, dv, _) = PackedAttention.backward(dContext, cache: c.attention, offsets: batch.offsets, options: crossOptions, grads: &grads)
        var dMemoryHere = p.linearBackward(dk, input: memory, names.key, grads: &grads)!
        Ops.addInPlace(&dMemoryHere, p.linearBackward(dv, input: memory, names.value, grads: &grads)!)
        dMemory = dMemory.map { Ops.add($0, dMemoryHere) } ?? dMemoryHere
        var dInput = p.linearBackward(dq, input: c.input, names.query, grads: &grads)!
        if let cache = c.inputNorm { dInput = p.normBackward(dInput, input: c.x, cache: cache, names.norm, norm, grads: &grads) }
        Ops.addInPlace(&dx, dInput)
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

    /// RMSNorm over each head of `x` (`[tokens, heads · headDim]`).
    private func headNorm(_ x: Tensor, _ name: String, _ p: ParameterStore) -> (Tensor, (Tensor, Ops.LayerNormCache)) {
        let perHead = x.reshaped([x.count / attention.headDim, attention.headDim])
        let (y, cache) = p.norm(perHead, name, .rmsNorm, eps: eps)
        return (y.reshaped(x.shape), (perHead, cache))
    }

    private func headNormBackward(_ dy: Tensor, input: Tensor, cache: Ops.LayerNormCache, _ name: String, _ p: ParameterStore,
                                  grads: inout ParameterStore) -> Tensor {
        p.normBackward(dy.reshaped(input.shape), input: input, cache: cache, name, .rmsNorm, grads: &grads).reshaped(dy.shape)
    }

    // MARK: MLP

    /// The MLP's input projection: `h W₁`, or `[h W_gate | h W_up]` when the two are separate.
    private func mlpInputProjection(_ x: Tensor, _ p: ParameterStore) -> Tensor {
        guard let gate = names.gate else { return p.linear(x, names.intermediate) }
        return Ops.concatenateColumns([p.linear(x, gate), p.linear(x, names.intermediate)])
    }

    private func mlpInputProjectionBackward(_ dy: Tensor, input x: Tensor, _ p: ParameterStore, grads: inout ParameterStore) -> Tensor {
        guard let gate = names.gate else { return p.linearBackward(dy, input: x, names.intermediate, grads: &grads)! }
        let parts = Ops.splitColumns(dy, into: 2)
        var dx = p.linearBackward(parts[0], input: x, gate, grads: &grads)!
        Ops.addInPlace(&dx, p.linearBackward(parts[1], input: x, names.intermediate, grads: &grads)!)
        return dx
    }

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

    /// Which of a layer's `Linear`s and norms have biases.
    struct Biases {
        var attention = true, attentionOutput: Bool? = nil, mlp = true, norm = true
    }

    /// (name, shape) of every parameter.
    /// `biases.attention`: on the q/k/v projections; `biases.attentionOutput` on the attention
    /// output (the same unless given: Qwen2 has the first and not the second).
    func shapes(hidden: Int, intermediate i: Int, biases: Biases = Biases()) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        let projections = Set(names.projectionNames + (names.crossAttention.map { [$0.query, $0.key, $0.value] } ?? []))
        let outputs = Set([names.attentionOutput] + (names.crossAttention.map { [$0.output] } ?? []))
        let normBias = biases.norm
        func linear(_ name: String, _ o: Int, _ inputs: Int) {
            out.append((name + ".weight", [o, inputs]))
            let bias = projections.contains(name) ? biases.attention : outputs.contains(name) ? biases.attentionOutput ?? biases.attention : biases.mlp
            if bias { out.append((name + ".bias", [o])) }
        }
        func normShape(_ name: String, width: Int = hidden) {
            out.append((name + ".weight", [width]))
            if normBias && norm == .layerNorm { out.append((name + ".bias", [width])) }
        }
        let a = attention
        if placement == .preNorm, let n = names.attentionNorm { normShape(n) }
        switch names.projections {
        case let .separate(q, k, v):
            linear(q, a.queryWidth, hidden); linear(k, a.keyValueWidth, hidden); linear(v, a.keyValueWidth, hidden)
        case let .fused(qkv): linear(qkv, a.queryWidth + 2 * a.keyValueWidth, hidden)
        }
        if let n = names.queryNorm { out.append((n + ".weight", [a.headDim])) }
        if let n = names.keyNorm { out.append((n + ".weight", [a.headDim])) }
        linear(names.attentionOutput, hidden, a.queryWidth)
        if placement == .postNorm, let n = names.attentionNorm { normShape(n) }
        if let cross = names.crossAttention {
            linear(cross.query, a.queryWidth, hidden); linear(cross.key, a.queryWidth, hidden); linear(cross.value, a.queryWidth, hidden)
            linear(cross.output, hidden, a.queryWidth)
            normShape(cross.norm)
        }
        if placement == .preNorm { normShape(names.outputNorm) }
        if let gate = names.gate {
            linear(gate, i, hidden); linear(names.intermediate, i, hidden)
        } else {
            linear(names.intermediate, mlp == .gated ? 2 * i : i, hidden)
        }
        linear(names.output, hidden, i)
        if placement == .postNorm { normShape(names.outputNorm) }
        return out
    }
}
