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

    /// How the layer's self-attention computes its context: one choice whose case carries what it
    /// needs, so that a setup that cannot work (a sliding window with rotary positions or q/k
    /// norms, disentangled terms that ignore rotary) cannot be written.
    enum AttentionKind {
        /// Scaled dot-product attention (`attention`'s options) over the layer's q/k/v projections;
        /// optionally per-head RMSNorms of q and k (Qwen3), then rotary positions on both.
        case standard(rotary: Rotary? = nil, headNorms: HeadNorms? = nil)
        /// DeBERTa: plus content-to-position and position-to-content terms from the relative
        /// embeddings the stack computes once per pass, which `forward` then requires.
        case disentangled(DisentangledAttention)
        /// Longformer: local + global attention with projections of its own, instead of the above.
        case slidingWindow(SlidingWindowAttention)
    }

    /// The names of RMSNorms over each head of q and of k (Qwen3's `q_norm`, `k_norm`).
    struct HeadNorms {
        var query: String, key: String
    }

    let names: TransformerLayerNames
    var placement = Placement.postNorm
    var norm = NormKind.layerNorm
    /// The shape of attention: heads, scale, masking, relative bias (every kind has one).
    let attention: AttentionOptions
    var attentionKind = AttentionKind.standard()
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

    /// The rotary positions of a standard layer.
    var rotary: Rotary? {
        guard case let .standard(rotary, _) = attentionKind else { return nil }
        return rotary
    }

    /// The q/k norms of a standard layer.
    var headNorms: HeadNorms? {
        guard case let .standard(_, norms) = attentionKind else { return nil }
        return norms
    }

    /// Longformer's attention, when this layer has it.
    var slidingWindow: SlidingWindowAttention? {
        guard case let .slidingWindow(window) = attentionKind else { return nil }
        return window
    }

    /// What `forward` needs and was not given (a caller's bug, stopped before it computes
    /// something else): the encoder's output for cross-attention, the stack's relative
    /// embeddings for disentangled attention. Nil when nothing is missing.
    func missingInput(relative: Tensor?, memory: Tensor?) -> LayerInputError? {
        if names.crossAttention != nil, memory == nil { return .noMemory(layer: names.attentionOutput) }
        if case .disentangled = attentionKind, relative == nil { return .noRelativeEmbeddings(layer: names.attentionOutput) }
        return nil
    }

    /// Activations the backward pass reads.
    struct Cache {
        var attentionBlock: ResidualCache
        var queryNorm: (input: Tensor, cache: Ops.NormCache)?, keyNorm: (input: Tensor, cache: Ops.NormCache)?
        var attention: PackedAttention.Cache?
        var positional: DisentangledAttention.Cache?
        var windowed: SlidingWindowAttention.Cache?
        var context: Tensor
        var cross: (block: ResidualCache, attention: PackedAttention.Cache, context: Tensor)?
        var mlp: MLPCache
    }

    /// The MLP inside its residual connection: the block, the MLP's pre-activation, its activation
    /// (after dropout) and that dropout's mask.
    struct MLPCache {
        var block: ResidualCache
        var preActivation: Tensor, activated: Tensor, hiddenDrop: [Float]?
    }

    /// One sublayer inside its residual connection: the input `x`, what the sublayer saw (`x`, or
    /// its norm with pre-norm), the dropout mask on its output, the residual sum and its norm
    /// (post-norm).
    struct ResidualCache {
        var x: Tensor, input: Tensor, inputNorm: Ops.NormCache?
        var drop: [Float]?
        var sum: Tensor, sumNorm: Ops.NormCache?
    }

    /// `y = x + Dropout(body(Norm(x)))` (pre-norm) or `y = Norm(x + Dropout(body(x)))` (post-norm);
    /// `norm` `nil`: no norm on this side (ModernBERT's first layer).
    private func residual(_ x: Tensor, norm name: String?, dropout: Float, _ p: ParameterStore, rng: inout SplitMix64?,
                          _ body: (Tensor, inout SplitMix64?) -> Tensor) -> (Tensor, ResidualCache) {
        let pre = placement == .preNorm
        var input = x, inputNorm: Ops.NormCache? = nil
        if pre, let name { (input, inputNorm) = p.norm(x, name, norm, eps: eps) }
        var out = body(input, &rng)
        let drop = Dropout.mask(count: out.count, p: dropout, rng: &rng)
        Dropout.apply(&out, drop)
        let sum = OpProfiler.measure(.residual) { Ops.add(out, x) }
        var y = sum, sumNorm: Ops.NormCache? = nil
        if !pre, let name { (y, sumNorm) = p.norm(sum, name, norm, eps: eps) }
        return (y, ResidualCache(x: x, input: input, inputNorm: inputNorm, drop: drop, sum: sum, sumNorm: sumNorm))
    }

    /// Backward of `residual`: `bodyBackward` maps the gradient of the sublayer's output to that of its input.
    private func residualBackward(_ dy: Tensor, cache c: ResidualCache, norm name: String?, _ p: ParameterStore, grads: inout ParameterStore,
                                  _ bodyBackward: (Tensor, inout ParameterStore) -> Tensor) -> Tensor {
        var dSum = dy
        if let cache = c.sumNorm, let name { dSum = p.normBackward(dy, input: c.sum, cache: cache, name, norm, grads: &grads) }
        var dx = dSum
        Dropout.apply(&dSum, c.drop)
        var dInput = bodyBackward(dSum, &grads)
        if let cache = c.inputNorm, let name { dInput = p.normBackward(dInput, input: c.x, cache: cache, name, norm, grads: &grads) }
        Ops.addInPlace(&dx, dInput)
        return dx
    }

    /// `relative`: the relative-position embeddings of disentangled attention (`RelativeEmbeddings`);
    /// `memory`: the encoder's output, for cross-attention.
    /// `rotaryTables`: the stack's tables for this pass (`TransformerStack.rotaryTables`; built here when missing).
    func forward(_ x: Tensor, batch: PackedBatch, positions: [Int32], rotaryTables: [Rotary: Rotary.Table] = [:], relative: Tensor? = nil,
                 memory: Tensor? = nil, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, Cache?) {
        if let missing = missingInput(relative: relative, memory: memory) { preconditionFailure("TransformerLayer.forward: \(missing)") }
        var context = x
        var attentionCache: PackedAttention.Cache? = nil, positionalCache: DisentangledAttention.Cache? = nil
        var windowedCache: SlidingWindowAttention.Cache? = nil
        var queryNormCache: (Tensor, Ops.NormCache)? = nil, keyNormCache: (Tensor, Ops.NormCache)? = nil
        let (x1, attentionBlock) = residual(x, norm: names.attentionNorm, dropout: attentionOutputDropout, p, rng: &rng) { input, rng in
            if case let .slidingWindow(slidingWindow) = attentionKind {
                (context, windowedCache) = slidingWindow.forward(input, offsets: batch.offsets, isGlobal: batch.globalAttentionFlags, p,
                                                                 dropout: attentionDropout, rng: &rng, keepCache: keepCache)
            } else {
                var (q, k, v) = project(input, p)
                if let norms = headNorms {
                    (q, queryNormCache) = headNorm(q, norms.query, p)
                    (k, keyNormCache) = headNorm(k, norms.key, p)
                }
                if let rotary {
                    let table = rotaryTables[rotary] ?? rotary.table(positions: positions)
                    rotary.rotate(&q, positions: positions, table: table)
                    rotary.rotate(&k, positions: positions, table: table)
                }
                var positional: DisentangledAttention.Projected? = nil
                if case let .disentangled(terms) = attentionKind, let relative {   // relative: checked above
                    let longest = batch.lengths.max() ?? 0
                    (positional, positionalCache) = terms.project(relative, rows: terms.rowsUsed(length: longest), p, rng: &rng)
                }
                (context, attentionCache) = OpProfiler.measure(.attention) {
                    PackedAttention.forward(q: q, k: k, v: v, positional: positional, offsets: batch.offsets,
                                            options: attention, p, dropout: attentionDropout, rng: &rng, keepCache: keepCache)
                }
            }
            return p.linear(context, names.attentionOutput)
        }

        var x2 = x1, cross: (block: ResidualCache, attention: PackedAttention.Cache, context: Tensor)? = nil
        if let names = names.crossAttention, let memory {   // memory: checked above
            var crossAttention: PackedAttention.Cache? = nil, crossContext = x1
            let (y, block) = residual(x1, norm: names.norm, dropout: attentionOutputDropout, p, rng: &rng) { input, rng in
                (crossContext, crossAttention) = PackedAttention.forward(q: p.linear(input, names.query), k: p.linear(memory, names.key),
                                                                         v: p.linear(memory, names.value), offsets: batch.offsets, options: crossOptions, p,
                                                                         dropout: attentionDropout, rng: &rng, keepCache: keepCache)
                return p.linear(crossContext, names.output)
            }
            x2 = y
            if let crossAttention { cross = (block, crossAttention, crossContext) }
        }

        let (y, mlp) = mlpBlock(x2, p, rng: &rng)
        guard keepCache, attentionCache != nil || windowedCache != nil else { return (y, nil) }
        return (y, Cache(attentionBlock: attentionBlock, queryNorm: queryNormCache, keyNorm: keyNormCache, attention: attentionCache,
                         positional: positionalCache, windowed: windowedCache, context: context, cross: cross, mlp: mlp))
    }

    // MARK: The pooled rows only

    /// Whether `forwardRows` can run this layer for inference: attention without relative terms,
    /// a sliding window of Longformer's kind or cross-attention.
    var computesSelectedRows: Bool {
        guard case .standard = attentionKind else { return false }
        return names.crossAttention == nil && PackedAttention.supportsQueryRows(attention)
    }

    /// Whether `forwardRows` can also keep what `backwardRows` needs: encoder attention (not causal,
    /// no window) with separate q/k/v projections, every head its own k and v, no rotary and no
    /// q/k norms.
    var trainsSelectedRows: Bool {
        guard computesSelectedRows, case .separate = names.projections else { return false }
        return rotary == nil && headNorms == nil && attention.keyValueHeads == attention.heads
            && !attention.causal && attention.window == nil
    }

    /// Activations `backwardRows` reads. Tensors of the selected rows unless noted.
    struct RowsCache {
        var rows: [Int]
        /// The layer's input and what attention saw (its norm, pre-norm), every token.
        var x: Tensor, input: Tensor, inputNorm: Ops.NormCache?
        var queryInput: Tensor
        var q: Tensor, k: Tensor, v: Tensor
        var attention: PackedAttention.RowsCache
        var context: Tensor
        var attentionDrop: [Float]?
        var sum: Tensor, sumNorm: Ops.NormCache?
        var mlp: MLPCache
    }

    /// `forward` for one row per sequence (`rows[s]` of sequence `s`, the row a classification
    /// head pools): the layer's output at those rows, `[rows.count, hidden]`, without computing
    /// the others. Keys and values still come from every token; the query, attention output,
    /// residuals, norms and MLP run on the selected rows alone: the last layer of a classifier
    /// then costs about a sixth of a full one. For inference each row is bit for bit what
    /// `forward` gives it (the same fused attention kernel); with `keepCache` or a generator
    /// (training, only where `trainsSelectedRows`) attention applies dropout and keeps its
    /// probabilities for `backwardRows`.
    func forwardRows(_ x: Tensor, rows: [Int], batch: PackedBatch, positions: [Int32], rotaryTables: [Rotary: Rotary.Table] = [:],
                     _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, RowsCache?) {
        let pre = placement == .preNorm
        var input = x, inputNorm: Ops.NormCache? = nil
        if pre, let name = names.attentionNorm { (input, inputNorm) = p.norm(x, name, norm, eps: eps) }
        var queryInput = input, q: Tensor, k: Tensor, v: Tensor
        switch names.projections {
        case let .separate(query, key, value):
            queryInput = Pooling.rows(input, at: rows)
            q = p.linear(queryInput, query); k = p.linear(input, key); v = p.linear(input, value)
        case .fused:
            let all = project(input, p)
            q = Pooling.rows(all.0, at: rows); k = all.1; v = all.2
        }
        if let norms = headNorms {
            q = headNorm(q, norms.query, p).0
            k = headNorm(k, norms.key, p).0
        }
        if let rotary {
            let table = rotaryTables[rotary] ?? rotary.table(positions: positions)
            rotary.rotate(&q, positions: rows.map { positions[$0] }, table: table)
            rotary.rotate(&k, positions: positions, table: table)
        }
        let context: Tensor
        var attentionCache: PackedAttention.RowsCache? = nil
        if keepCache || rng != nil {
            (context, attentionCache) = OpProfiler.measure(.attention) {
                PackedAttention.forwardRows(q: q, rows: rows, k: k, v: v, offsets: batch.offsets, options: attention, dropout: attentionDropout, rng: &rng)
            }
        } else {
            context = OpProfiler.measure(.attention) { PackedAttention.fused(q: q, k: k, v: v, offsets: batch.offsets, options: attention, rows: rows) }
        }
        var out = p.linear(context, names.attentionOutput)
        let attentionDrop = Dropout.mask(count: out.count, p: attentionOutputDropout, rng: &rng)
        Dropout.apply(&out, attentionDrop)
        let xRows = Pooling.rows(x, at: rows)
        let sum = OpProfiler.measure(.residual) { Ops.add(out, xRows) }
        var x1 = sum, sumNorm: Ops.NormCache? = nil
        if !pre, let name = names.attentionNorm { (x1, sumNorm) = p.norm(sum, name, norm, eps: eps) }
        let (y, mlp) = mlpBlock(x1, p, rng: &rng)
        guard keepCache, let attentionCache else { return (y, nil) }
        return (y, RowsCache(rows: rows, x: x, input: input, inputNorm: inputNorm, queryInput: queryInput, q: q, k: k, v: v,
                             attention: attentionCache, context: context, attentionDrop: attentionDrop, sum: sum, sumNorm: sumNorm, mlp: mlp))
    }

    /// Backward of `forwardRows` (with `trainsSelectedRows`): `dy` is `[rows.count, hidden]`;
    /// returns the gradient of the layer's input, every token (keys and values reach them all,
    /// the residual and the query only the selected rows).
    func backwardRows(_ dy: Tensor, cache c: RowsCache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) -> Tensor {
        let dx1 = mlpBlockBackward(dy, cache: c.mlp, p, grads: &grads)
        var dSum = dx1
        if let cache = c.sumNorm, let name = names.attentionNorm { dSum = p.normBackward(dx1, input: c.sum, cache: cache, name, norm, grads: &grads) }
        var dOut = dSum
        Dropout.apply(&dOut, c.attentionDrop)
        let dContext = p.linearBackward(dOut, input: c.context, names.attentionOutput, grads: &grads)
        let (dq, dk, dv) = PackedAttention.backwardRows(dContext, cache: c.attention, q: c.q, k: c.k, v: c.v, offsets: batch.offsets, options: attention)
        guard case let .separate(query, key, value) = names.projections else {
            preconditionFailure("TransformerLayer.backwardRows: only separate q/k/v projections train on selected rows")
        }
        var dInput = p.linearBackward(dk, input: c.input, key, grads: &grads)
        Ops.addInPlace(&dInput, p.linearBackward(dv, input: c.input, value, grads: &grads))
        Pooling.addRows(p.linearBackward(dq, input: c.queryInput, query, grads: &grads), at: c.rows, into: &dInput)
        if let cache = c.inputNorm, let name = names.attentionNorm { dInput = p.normBackward(dInput, input: c.x, cache: cache, name, norm, grads: &grads) }
        Pooling.addRows(dSum, at: c.rows, into: &dInput)
        return dInput
    }

    /// Returns the gradient of the layer's input; disentangled attention adds the gradient of the
    /// relative embeddings to `dRelative`, cross-attention the gradient of the encoder's output
    /// to `dMemory`.
    func backward(_ dy: Tensor, cache c: Cache, batch: PackedBatch, positions: [Int32], rotaryTables: [Rotary: Rotary.Table] = [:],
                  memory: Tensor? = nil, _ p: ParameterStore, grads: inout ParameterStore, dRelative: inout Tensor?, dMemory: inout Tensor?) -> Tensor {
        var dx = mlpBlockBackward(dy, cache: c.mlp, p, grads: &grads)

        if let names = names.crossAttention {
            guard let cross = c.cross, let memory else { preconditionFailure("TransformerLayer.backward: cross-attention needs its cache and the encoder's output") }
            dx = residualBackward(dx, cache: cross.block, norm: names.norm, p, grads: &grads) { dOut, grads in
                let dContext = p.linearBackward(dOut, input: cross.context, names.output, grads: &grads)
                let (dq, dk, dv, _) = PackedAttention.backward(dContext, cache: cross.attention, offsets: batch.offsets, options: crossOptions, grads: &grads)
                var dMemoryHere = p.linearBackward(dk, input: memory, names.key, grads: &grads)
                Ops.addInPlace(&dMemoryHere, p.linearBackward(dv, input: memory, names.value, grads: &grads))
                dMemory = dMemory.map { Ops.add($0, dMemoryHere) } ?? dMemoryHere
                return p.linearBackward(dq, input: cross.block.input, names.query, grads: &grads)
            }
        }

        return residualBackward(dx, cache: c.attentionBlock, norm: names.attentionNorm, p, grads: &grads) { dOut, grads in
            let dContext = p.linearBackward(dOut, input: c.context, names.attentionOutput, grads: &grads)
            if case let .slidingWindow(slidingWindow) = attentionKind {
                guard let windowed = c.windowed else { preconditionFailure("TransformerLayer.backward: the cache holds no sliding-window activations") }
                return slidingWindow.backward(dContext, cache: windowed, isGlobal: batch.globalAttentionFlags, p, grads: &grads)
            }
            guard let attentionCache = c.attention else { preconditionFailure("TransformerLayer.backward: the cache holds no attention activations") }
            var (dq, dk, dv, dPositional) = PackedAttention.backward(dContext, cache: attentionCache, offsets: batch.offsets, options: attention,
                                                                     grads: &grads)
            if case let .disentangled(terms) = attentionKind, let dPositional, let positionalCache = c.positional {
                let dThis = terms.projectBackward(dPositional, cache: positionalCache, p, grads: &grads)
                dRelative = dRelative.map { Ops.add($0, dThis) } ?? dThis
            }
            if let rotary {
                let table = rotaryTables[rotary] ?? rotary.table(positions: positions)
                rotary.rotate(&dq, positions: positions, table: table, inverse: true)
                rotary.rotate(&dk, positions: positions, table: table, inverse: true)
            }
            if let norms = headNorms, let (qInput, qCache) = c.queryNorm, let (kInput, kCache) = c.keyNorm {
                dq = headNormBackward(dq, input: qInput, cache: qCache, norms.query, p, grads: &grads)
                dk = headNormBackward(dk, input: kInput, cache: kCache, norms.key, p, grads: &grads)
            }
            return projectBackward(dq, dk, dv, input: c.attentionBlock.input, p, grads: &grads)
        }
    }

    // MARK: Cross-attention

    private var crossOptions: AttentionOptions { AttentionOptions(heads: attention.heads, headDim: attention.headDim) }

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
            var dx = p.linearBackward(dq, input: x, query, grads: &grads)
            Ops.addInPlace(&dx, p.linearBackward(dk, input: x, key, grads: &grads))
            Ops.addInPlace(&dx, p.linearBackward(dv, input: x, value, grads: &grads))
            return dx
        case let .fused(qkv):
            return p.linearBackward(Ops.concatenateColumns([dq, dk, dv]), input: x, qkv, grads: &grads)
        }
    }

    /// RMSNorm over each head of `x` (`[tokens, heads · headDim]`).
    private func headNorm(_ x: Tensor, _ name: String, _ p: ParameterStore) -> (Tensor, (Tensor, Ops.NormCache)) {
        let perHead = x.reshaped([x.count / attention.headDim, attention.headDim])
        let (y, cache) = p.norm(perHead, name, .rmsNorm, eps: eps)
        return (y.reshaped(x.shape), (perHead, cache))
    }

    private func headNormBackward(_ dy: Tensor, input: Tensor, cache: Ops.NormCache, _ name: String, _ p: ParameterStore,
                                  grads: inout ParameterStore) -> Tensor {
        p.normBackward(dy.reshaped(input.shape), input: input, cache: cache, name, .rmsNorm, grads: &grads).reshaped(dy.shape)
    }

    // MARK: MLP

    /// `y = x + Dropout(MLP(x))` (pre-norm: of `Norm(x)`; post-norm: `Norm` of the sum), with
    /// dropout inside the MLP after the activation.
    private func mlpBlock(_ x: Tensor, _ p: ParameterStore, rng: inout SplitMix64?) -> (Tensor, MLPCache) {
        var preActivation = x, activated = x, hiddenDrop: [Float]? = nil
        let (y, block) = residual(x, norm: names.outputNorm, dropout: mlpOutputDropout, p, rng: &rng) { input, rng in
            preActivation = mlpInputProjection(input, p)
            activated = activate(preActivation)
            hiddenDrop = Dropout.mask(count: activated.count, p: mlpHiddenDropout, rng: &rng)
            Dropout.apply(&activated, hiddenDrop)
            return p.linear(activated, names.output)
        }
        return (y, MLPCache(block: block, preActivation: preActivation, activated: activated, hiddenDrop: hiddenDrop))
    }

    private func mlpBlockBackward(_ dy: Tensor, cache c: MLPCache, _ p: ParameterStore, grads: inout ParameterStore) -> Tensor {
        residualBackward(dy, cache: c.block, norm: names.outputNorm, p, grads: &grads) { dOut, grads in
            var dActivated = p.linearBackward(dOut, input: c.activated, names.output, grads: &grads)
            Dropout.apply(&dActivated, c.hiddenDrop)
            return mlpInputProjectionBackward(activationBackward(dActivated, input: c.preActivation), input: c.block.input, p, grads: &grads)
        }
    }

    /// The MLP's input projection: `h W₁`, or `[h W_gate | h W_up]` when the two are separate.
    private func mlpInputProjection(_ x: Tensor, _ p: ParameterStore) -> Tensor {
        guard let gate = names.gate else { return p.linear(x, names.intermediate) }
        return Ops.concatenateColumns([p.linear(x, gate), p.linear(x, names.intermediate)])
    }

    private func mlpInputProjectionBackward(_ dy: Tensor, input x: Tensor, _ p: ParameterStore, grads: inout ParameterStore) -> Tensor {
        guard let gate = names.gate else { return p.linearBackward(dy, input: x, names.intermediate, grads: &grads) }
        let parts = Ops.splitColumns(dy, into: 2)
        var dx = p.linearBackward(parts[0], input: x, gate, grads: &grads)
        Ops.addInPlace(&dx, p.linearBackward(parts[1], input: x, names.intermediate, grads: &grads))
        return dx
    }

    private func activate(_ z: Tensor) -> Tensor {
        OpProfiler.measure(.activation) {
            guard mlp == .gated else { return Ops.activate(z, activation) }
            let parts = Ops.splitColumns(z, into: 2)
            return Ops.multiply(Ops.activate(parts[0], activation), parts[1])
        }
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
        if let norms = headNorms { out += [(norms.query + ".weight", [a.headDim]), (norms.key + ".weight", [a.headDim])] }
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

/// An input a layer's attention needs that its caller did not give.
enum LayerInputError: Error, Equatable, CustomStringConvertible {
    /// A layer with cross-attention (the mBART decoder's) was run without the encoder's output.
    case noMemory(layer: String)
    /// A layer with disentangled attention (DeBERTa's) was run without the relative embeddings.
    case noRelativeEmbeddings(layer: String)

    var description: String {
        switch self {
        case let .noMemory(layer): return "\(layer): cross-attention needs the encoder's output (memory), and none was given"
        case let .noRelativeEmbeddings(layer): return "\(layer): disentangled attention needs the stack's relative embeddings, and none were given"
        }
    }
}
