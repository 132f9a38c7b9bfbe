import Foundation
import VerdictTensor

/// What varies between the families' scaled dot-product attention, apart from how q, k and v are
/// projected (see `TransformerLayer`): the score scale, causal masking (decoders), an optional
/// window, grouped-query attention and an optional additive relative-position bias. What a layer
/// adds to it (rotary positions, q/k norms, DeBERTa's disentangled terms) or uses instead of it
/// (Longformer's sliding window) is the layer's `TransformerLayer.Attention` choice.
struct AttentionOptions {
    var heads: Int
    /// Heads of k and v: `heads` (multi-head), fewer (grouped-query: each k/v head serves
    /// `heads / keyValueHeads` query heads) or 1 (multi-query).
    var keyValueHeads: Int
    var headDim: Int
    /// Multiplies `q · k` (`1 / √head_dim` unless a family says otherwise).
    var scale: Float
    /// A query attends only to itself and earlier keys (decoders).
    var causal = false
    /// When set, a query attends only to keys at most this many positions away (ModernBERT's
    /// local layers: `local_attention / 2`); with `causal`, only to earlier ones (Mistral:
    /// `sliding_window − 1`).
    var window: Int? = nil
    /// Bucketed relative-position bias added to every score (MPNet).
    var relativeBias: RelativePositionBias? = nil

    init(heads: Int, headDim: Int, keyValueHeads: Int? = nil, causal: Bool = false, window: Int? = nil, relativeBias: RelativePositionBias? = nil) {
        self.heads = heads; self.headDim = headDim; self.keyValueHeads = keyValueHeads ?? heads
        self.scale = 1 / Float(headDim).squareRoot(); self.causal = causal; self.window = window; self.relativeBias = relativeBias
    }

    /// Widths of the q and of the k/v projections.
    var queryWidth: Int { heads * headDim }
    var keyValueWidth: Int { keyValueHeads * headDim }

    /// Whether scores need more than scaling before the softmax.
    var shapesScores: Bool { causal || window != nil || relativeBias != nil }
}

/// MPNet's (T5-style) relative-position bias: a `[buckets, heads]` table indexed by the bucket of
/// `key position − query position`, added to the attention scores of every layer. Half the
/// buckets hold exact small distances; the rest grow logarithmically up to `maxDistance`.
struct RelativePositionBias {
    /// Full name of the `[buckets, heads]` table.
    let table: String
    /// `transformers` computes buckets with its defaults (32, 128) whatever the config says.
    var buckets = 32
    var maxDistance = 128

    /// `MPNetEncoder.relative_position_bucket`, in the same float32 arithmetic.
    func bucket(_ relative: Int) -> Int {
        var n = -relative, result = 0
        let half = buckets / 2
        if n < 0 { result += half }
        n = abs(n)
        let maxExact = half / 2
        if n < maxExact { return result + n }
        let scaled = Float(log(Float(n) / Float(maxExact))) / Float(Foundation.log(Double(maxDistance) / Double(maxExact))) * Float(half - maxExact)
        return result + min(maxExact + Int(scaled), half - 1)
    }

    /// Buckets of relative distances `−(length − 1) … length − 1`, index `distance + length − 1`.
    func bucketTable(length: Int) -> [Int] { (-(length - 1)..<max(length, 1)).map(bucket) }

    /// The bias of each head at each relative distance: `[heads, 2·length − 1]`, distance
    /// `−(length − 1)` first.
    func biasByDistance(_ table: Tensor, heads: Int, length: Int) -> [Float] {
        let buckets = bucketTable(length: length)
        var out = [Float](repeating: 0, count: heads * buckets.count)
        for h in 0..<heads { for (d, b) in buckets.enumerated() { out[h * buckets.count + d] = table.scalars[b * heads + h] } }
        return out
    }
}

/// Scaled dot-product attention over a packed batch: for each sequence and head,
/// `softmax(scale · (Q Kᵀ + disentangled terms) + bias) V`, with scores outside the window or
/// after the query (causal) removed. No padding exists, so no padding mask is needed;
/// (sequence, head) pairs run in parallel, each with single-threaded kernels. Keys and values
/// may come from another sequence of the same length (cross-attention: the mBART decoder
/// attends to the encoder's output) and may have fewer heads (grouped-query attention).
enum PackedAttention {
    struct Cache {
        var q: Tensor, k: Tensor, v: Tensor
        /// Softmax probabilities of every (sequence, head), flattened; `probOffsets` index it.
        var probs: [Float]
        var probOffsets: [Int]
        /// Dropout mask on the probabilities, same layout as `probs`.
        var dropMask: [Float]?
        /// The projected relative embeddings of the disentangled terms.
        var positional: DisentangledAttention.Projected?
    }

    /// `q`: `[tokens, heads · headDim]`; `k`, `v`: `[tokens, keyValueHeads · headDim]`; `positional`: the relative embeddings projected for the
    /// disentangled terms, when the layer's attention is disentangled. Returns the context `[tokens, hidden]`.
    static func forward(q: Tensor, k: Tensor, v: Tensor, positional: DisentangledAttention.Projected? = nil, offsets: [Int],
                        options o: AttentionOptions, _ p: ParameterStore,
                        dropout: Float, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, Cache?) {
        let heads = o.heads, hidden = q.shape[1], d = o.headDim, kvWidth = o.keyValueWidth, group = heads / o.keyValueHeads
        let sequences = offsets.count - 1
        if !keepCache && (dropout == 0 || rng == nil) && positional == nil && o.relativeBias == nil {
            return (fused(q: q, k: k, v: v, offsets: offsets, options: o), nil)
        }
        var probOffsets = [0]
        var longest = 0
        for s in 0..<sequences {
            let l = offsets[s + 1] - offsets[s]
            longest = max(longest, l)
            for _ in 0..<heads { probOffsets.append(probOffsets[probOffsets.count - 1] + l * l) }
        }
        var probs = [Float](repeating: 0, count: probOffsets[probOffsets.count - 1])
        var context = Tensor(shape: q.shape)
        let dropMask = Dropout.mask(count: probs.count, p: dropout, rng: &rng)
        let biasByDistance = o.relativeBias.map { $0.biasByDistance(p[$0.table], heads: heads, length: longest) } ?? []
        let terms = positional?.terms
        let positionRows = terms?.rowsByDistance(length: longest) ?? []
        q.scalars.withUnsafeBufferPointer { qp in
        k.scalars.withUnsafeBufferPointer { kp in
        v.scalars.withUnsafeBufferPointer { vp in
        context.scalars.withUnsafeMutableBufferPointer { cp in
        probs.withUnsafeMutableBufferPointer { pp in
        positionRows.withUnsafeBufferPointer { rows in
            let (q0, k0, v0, c0, p0) = (qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, cp.baseAddress!, pp.baseAddress!)
            Parallel.forEach(sequences * heads) { task in
                let s = task / heads, h = task % heads
                let start = offsets[s], l = offsets[s + 1] - start
                if l == 0 { return }
                let rowOffset = start * hidden + h * d, kvOffset = start * kvWidth + (h / group) * d
                let scores = p0 + probOffsets[task]
                gemm(transposeB: true, m: l, n: l, k: d, a: q0 + rowOffset, lda: hidden, b: k0 + kvOffset, ldb: kvWidth,
                     c: scores, ldc: l, parallel: false)
                if let terms, let positional {
                    let t = DisentangledAttention.Task(length: l, headDim: d, stride: hidden, column: h * d, rows: rows.baseAddress!, longest: longest,
                                                       firstRow: positional.firstRow)
                    terms.addScores(scores, task: t, q: q0 + rowOffset, k: k0 + rowOffset, positional: positional)
                }
                if o.shapesScores {
                    biasByDistance.withUnsafeBufferPointer { bias in
                        let headBias = bias.isEmpty ? nil : bias.baseAddress! + h * (2 * longest - 1) + longest - 1
                        shapeAndSoftmax(scores, length: l, options: o, biasByDistance: headBias)
                    }
                } else {
                    Ops.softmaxRows(scores, rows: l, n: l, rowStride: l, scale: o.scale)
                }
                if let dropMask {
                    let dropped = (0..<(l * l)).map { scores[$0] * dropMask[probOffsets[task] + $0] }
                    gemm(m: l, n: d, k: l, a: dropped, lda: l, b: v0 + kvOffset, ldb: kvWidth, c: c0 + rowOffset, ldc: hidden, parallel: false)
                } else {
                    gemm(m: l, n: d, k: l, a: scores, lda: l, b: v0 + kvOffset, ldb: kvWidth, c: c0 + rowOffset, ldc: hidden, parallel: false)
                }
            }
        }}}}}}
        let cache = keepCache ? Cache(q: q, k: k, v: v, probs: probs, probOffsets: probOffsets, dropMask: dropMask, positional: positional) : nil
        return (context, cache)
    }

    /// Inference without relative terms: each (sequence, head) in one fused kernel
    /// (`vk_attention`) that holds a few rows of scores at a time instead of the `[l, l]` matrix.
    /// With `rows`, one query per sequence: `q` holds row `rows[s]` of sequence `s` (`[sequences,
    /// heads · headDim]`) while `k` and `v` hold every token, and the context of those rows alone
    /// comes back, each row bit for bit as without `rows` (`supportsQueryRows`).
    static func fused(q: Tensor, k: Tensor, v: Tensor, offsets: [Int], options o: AttentionOptions, rows: [Int]? = nil) -> Tensor {
        let heads = o.heads, hidden = q.shape[1], d = o.headDim, kvWidth = o.keyValueWidth, group = heads / o.keyValueHeads
        let sequences = offsets.count - 1
        return Tensor(shape: q.shape) { out in
            q.scalars.withUnsafeBufferPointer { qp in
            k.scalars.withUnsafeBufferPointer { kp in
            v.scalars.withUnsafeBufferPointer { vp in
                guard let q0 = qp.baseAddress, let k0 = kp.baseAddress, let v0 = vp.baseAddress, let c0 = out.baseAddress else { return }
                Parallel.forEach(sequences * heads) { task in
                    let s = task / heads, h = task % heads
                    let start = offsets[s], l = offsets[s + 1] - start
                    // Every query of the sequence, or its one selected row.
                    let (firstQuery, queries) = rows.map { ($0[s] - start, 1) } ?? (0, l)
                    let rowOffset = (rows == nil ? start : s) * hidden + h * d, kvOffset = start * kvWidth + (h / group) * d
                    attention(q: q0 + rowOffset, ldq: hidden, queryCount: queries, firstQueryPosition: firstQuery,
                              k: k0 + kvOffset, ldk: kvWidth, v: v0 + kvOffset, ldv: kvWidth,
                              out: c0 + rowOffset, ldo: hidden, length: l, headDim: d, scale: o.scale, causal: o.causal, window: o.window)
                }
            }}}
        }
    }

    /// Probabilities of `forwardRows`, for `backwardRows`: for task `s · heads + h`, the `l`
    /// probabilities of sequence `s`'s selected query over its keys, from `probOffsets[task]`.
    struct RowsCache {
        var rows: [Int]
        var probs: [Float]
        var probOffsets: [Int]
        var dropMask: [Float]?
    }

    /// `fused(rows:)` for training: keeps the probabilities (and applies dropout to them). Every head
    /// has its own k and v (no grouping); no relative terms, causal mask or window.
    static func forwardRows(q: Tensor, rows: [Int], k: Tensor, v: Tensor, offsets: [Int], options o: AttentionOptions,
                            dropout: Float, rng: inout SplitMix64?) -> (Tensor, RowsCache) {
        let heads = o.heads, hidden = q.shape[1], d = o.headDim, kvWidth = o.keyValueWidth
        var probOffsets = [0]
        for s in rows.indices { for _ in 0..<heads { probOffsets.append(probOffsets[probOffsets.count - 1] + offsets[s + 1] - offsets[s]) } }
        var probs = [Float](repeating: 0, count: probOffsets[probOffsets.count - 1])
        let dropMask = Dropout.mask(count: probs.count, p: dropout, rng: &rng)
        let context = Tensor(shape: q.shape) { out in
            q.scalars.withUnsafeBufferPointer { qp in
            k.scalars.withUnsafeBufferPointer { kp in
            v.scalars.withUnsafeBufferPointer { vp in
            probs.withUnsafeMutableBufferPointer { pp in
                guard let q0 = qp.baseAddress, let k0 = kp.baseAddress, let v0 = vp.baseAddress, let c0 = out.baseAddress, let p0 = pp.baseAddress else { return }
                Parallel.forEach(rows.count * heads) { task in
                    let s = task / heads, h = task % heads
                    let start = offsets[s], l = offsets[s + 1] - start
                    let query = q0 + s * hidden + h * d, result = c0 + s * hidden + h * d, prob = p0 + probOffsets[task]
                    for j in 0..<l {
                        let key = k0 + (start + j) * kvWidth + h * d
                        var dot: Float = 0
                        for i in 0..<d { dot += query[i] * key[i] }
                        prob[j] = dot
                    }
                    Ops.softmaxRows(prob, rows: 1, n: l, rowStride: l, scale: o.scale)
                    result.update(repeating: 0, count: d)
                    for j in 0..<l {
                        let weight = prob[j] * (dropMask?[probOffsets[task] + j] ?? 1), value = v0 + (start + j) * kvWidth + h * d
                        for i in 0..<d { result[i] += weight * value[i] }
                    }
                }
            }}}}
        }
        return (context, RowsCache(rows: rows, probs: probs, probOffsets: probOffsets, dropMask: dropMask))
    }

    /// Gradients of `q` (the selected rows), `k` and `v` (every token) given the gradient of the
    /// selected rows' context. With `p` a query's probabilities, `m` its dropout mask and `g` the
    /// context's gradient: `dv_j = p_j m_j g`, `dp_j = m_j g · v_j`, `ds_j = p_j (dp_j − Σ p dp)`,
    /// `dq = scale Σ ds_j k_j`, `dk_j = scale ds_j q`.
    static func backwardRows(_ dContext: Tensor, cache c: RowsCache, q: Tensor, k: Tensor, v: Tensor, offsets: [Int],
                             options o: AttentionOptions) -> (dq: Tensor, dk: Tensor, dv: Tensor) {
        let heads = o.heads, hidden = q.shape[1], d = o.headDim, kvWidth = o.keyValueWidth
        var dq = Tensor(shape: q.shape), dk = Tensor(shape: k.shape), dv = Tensor(shape: v.shape)
        dContext.scalars.withUnsafeBufferPointer { gp in
        q.scalars.withUnsafeBufferPointer { qp in
        k.scalars.withUnsafeBufferPointer { kp in
        v.scalars.withUnsafeBufferPointer { vp in
        dq.scalars.withUnsafeMutableBufferPointer { dqp in
        dk.scalars.withUnsafeMutableBufferPointer { dkp in
        dv.scalars.withUnsafeMutableBufferPointer { dvp in
            guard let g0 = gp.baseAddress, let q0 = qp.baseAddress, let k0 = kp.baseAddress, let v0 = vp.baseAddress,
                  let dq0 = dqp.baseAddress, let dk0 = dkp.baseAddress, let dv0 = dvp.baseAddress else { return }
            // Tasks write disjoint rows and heads of dk and dv: one query per sequence, one k/v head per head.
            Parallel.forEach(c.rows.count * heads) { task in
                let s = task / heads, h = task % heads
                let start = offsets[s], l = offsets[s + 1] - start, base = c.probOffsets[task]
                let g = g0 + s * hidden + h * d, query = q0 + s * hidden + h * d, dQuery = dq0 + s * hidden + h * d
                var dp = [Float](repeating: 0, count: l)
                var weighted: Float = 0
                for j in 0..<l {
                    let m = c.dropMask?[base + j] ?? 1, column = (start + j) * kvWidth + h * d
                    let value = v0 + column, dValue = dv0 + column
                    let pj = c.probs[base + j]
                    var dot: Float = 0
                    for i in 0..<d { dValue[i] += pj * m * g[i]; dot += g[i] * value[i] }
                    dp[j] = dot * m
                    weighted += pj * dp[j]
                }
                for j in 0..<l {
                    let ds = c.probs[base + j] * (dp[j] - weighted) * o.scale, column = (start + j) * kvWidth + h * d
                    let key = k0 + column, dKey = dk0 + column
                    for i in 0..<d { dQuery[i] += ds * key[i]; dKey[i] += ds * query[i] }
                }
            }
        }}}}}}}
        return (dq, dk, dv)
    }

    /// Whether `fused(rows:)` computes attention with these options (no relative bias, whose
    /// scores `fused` does not take; nor do disentangled terms, which `TransformerLayer` checks).
    static func supportsQueryRows(_ o: AttentionOptions) -> Bool { o.relativeBias == nil }

    /// Scales the `[l, l]` scores of one (sequence, head), adds the relative bias (`bias[j − i]`),
    /// and takes the softmax of each row over the keys inside the window and, when causal, not
    /// after the query (other keys get probability 0).
    private static func shapeAndSoftmax(_ scores: UnsafeMutablePointer<Float>, length l: Int, options o: AttentionOptions,
                                        biasByDistance bias: UnsafePointer<Float>?) {
        for i in 0..<l {
            let row = scores + i * l
            let lo = o.window.map { max(0, i - $0) } ?? 0
            let hi = o.causal ? i + 1 : o.window.map { min(l, i + $0 + 1) } ?? l
            if lo > 0 { row.update(repeating: 0, count: lo) }
            if hi < l { (row + hi).update(repeating: 0, count: l - hi) }
            if let bias {
                let b = bias - i
                for j in lo..<hi { row[j] = row[j] * o.scale + b[j] }
            } else {
                for j in lo..<hi { row[j] *= o.scale }
            }
            Ops.softmaxRows(row + lo, rows: 1, n: hi - lo, rowStride: l)
        }
    }

    /// Gradients of `q`, `k`, `v` (and of the projected relative embeddings, when the cache has
    /// them) given the gradient of the context; the relative-bias table's gradient is accumulated
    /// into `grads`.
    static func backward(_ dContext: Tensor, cache c: Cache, offsets: [Int], options o: AttentionOptions,
                         grads: inout ParameterStore) -> (Tensor, Tensor, Tensor, DisentangledAttention.Projected?) {
        let heads = o.heads, hidden = c.q.shape[1], d = o.headDim, kvWidth = o.keyValueWidth, kvHeads = o.keyValueHeads
        let group = heads / kvHeads, sequences = offsets.count - 1
        let scale = o.scale
        let longest = zip(offsets.dropFirst(), offsets).map { $0 - $1 }.max() ?? 0
        let buckets = o.relativeBias?.bucketTable(length: longest) ?? []
        let bucketCount = o.relativeBias?.buckets ?? 0
        // One bias-gradient row per task, summed afterwards (tasks run in parallel).
        var dBias = [Float](repeating: 0, count: o.relativeBias == nil ? 0 : sequences * heads * bucketCount)
        var dq = Tensor(shape: c.q.shape), dk = Tensor(shape: c.k.shape), dv = Tensor(shape: c.v.shape)
        // Disentangled terms: one `[rows, d]` gradient of Kᵣ and of Qᵣ per task, summed afterwards.
        let terms = c.positional?.terms, positional = c.positional
        let positionRows = terms?.rowsByDistance(length: longest) ?? []
        let perTask = (positional?.rows ?? 0) * d
        var dPositionKey = [Float](repeating: 0, count: positional?.key == nil ? 0 : sequences * heads * perTask)
        var dPositionQuery = [Float](repeating: 0, count: positional?.query == nil ? 0 : sequences * heads * perTask)
        c.q.scalars.withUnsafeBufferPointer { qp in
        c.k.scalars.withUnsafeBufferPointer { kp in
        c.v.scalars.withUnsafeBufferPointer { vp in
        dContext.scalars.withUnsafeBufferPointer { dcp in
        c.probs.withUnsafeBufferPointer { pp in
        dq.scalars.withUnsafeMutableBufferPointer { dqp in
        dk.scalars.withUnsafeMutableBufferPointer { dkp in
        dv.scalars.withUnsafeMutableBufferPointer { dvp in
        dBias.withUnsafeMutableBufferPointer { dbp in
        dPositionKey.withUnsafeMutableBufferPointer { dpkp in
        dPositionQuery.withUnsafeMutableBufferPointer { dpqp in
        positionRows.withUnsafeBufferPointer { rows in
            let (q0, k0, v0, dc0, p0) = (qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, dcp.baseAddress!, pp.baseAddress!)
            let (dq0, dk0, dv0) = (dqp.baseAddress!, dkp.baseAddress!, dvp.baseAddress!)
            let db0 = o.relativeBias == nil ? nil : dbp.baseAddress
            // One task per (sequence, k/v head): the query heads of a group write the same dK, dV
            // rows, so they run one after the other, the later ones accumulating.
            Parallel.forEach(sequences * kvHeads) { kvTask in
                let s = kvTask / kvHeads, g = kvTask % kvHeads
                let start = offsets[s], l = offsets[s + 1] - start
                if l == 0 { return }
                let kvo = start * kvWidth + g * d
                for h in (g * group)..<((g + 1) * group) {
                    let task = s * heads + h, accumulate: Float = h == g * group ? 0 : 1
                    let o = start * hidden + h * d
                    let p = p0 + c.probOffsets[task]
                    var weights = [Float](UnsafeBufferPointer(start: p, count: l * l))
                    if let m = c.dropMask { for i in 0..<(l * l) { weights[i] *= m[c.probOffsets[task] + i] } }
                    // dV = P'ᵀ dC
                    gemm(transposeA: true, m: l, n: d, k: l, a: weights, lda: l, b: dc0 + o, ldb: hidden, beta: accumulate, c: dv0 + kvo, ldc: kvWidth,
                         parallel: false)
                    // dP' = dC Vᵀ, then through dropout and softmax: dS = P ⊙ (dP − Σ dP ⊙ P)
                    var dp = [Float](repeating: 0, count: l * l)
                    gemm(transposeB: true, m: l, n: l, k: d, a: dc0 + o, lda: hidden, b: v0 + kvo, ldb: kvWidth, c: &dp, ldc: l, parallel: false)
                    if let m = c.dropMask { for i in 0..<(l * l) { dp[i] *= m[c.probOffsets[task] + i] } }
                    for r in 0..<l {
                        var dot: Float = 0
                        for j in 0..<l { dot += dp[r * l + j] * p[r * l + j] }
                        for j in 0..<l { dp[r * l + j] = p[r * l + j] * (dp[r * l + j] - dot) }
                    }
                    // The bias enters the scores unscaled; q · k enters scaled.
                    if let db0 {
                        let row = db0 + task * bucketCount
                        for r in 0..<l { for j in 0..<l { row[buckets[j - r + longest - 1]] += dp[r * l + j] } }
                    }
                    for i in 0..<(l * l) { dp[i] *= scale }
                    // dQ = dS K, dK = dSᵀ Q
                    gemm(m: l, n: d, k: l, a: dp, lda: l, b: k0 + kvo, ldb: kvWidth, c: dq0 + o, ldc: hidden, parallel: false)
                    gemm(transposeA: true, m: l, n: d, k: l, a: dp, lda: l, b: q0 + o, ldb: hidden, beta: accumulate, c: dk0 + kvo, ldc: kvWidth,
                         parallel: false)
                    if let terms, let positional {
                        let t = DisentangledAttention.Task(length: l, headDim: d, stride: hidden, column: h * d, rows: rows.baseAddress!, longest: longest,
                                                           firstRow: positional.firstRow)
                        terms.accumulateGradients(dp, task: t, q: q0 + o, k: k0 + o, dq: dq0 + o, dk: dk0 + o, positional: positional,
                                                  dKey: dpkp.baseAddress.map { $0 + task * perTask },
                                                  dQuery: dpqp.baseAddress.map { $0 + task * perTask })
                    }
                }
            }
        }}}}}}}}}}}}
        if let bias = o.relativeBias {
            grads.modify(bias.table) { g in
                for task in 0..<(sequences * heads) {
                    let h = task % heads
                    for b in 0..<bucketCount { g.scalars[b * heads + h] += dBias[task * bucketCount + b] }
                }
            }
        }
        var dPositional: DisentangledAttention.Projected? = nil
        if terms != nil, let positional {
            func gather(_ perTaskGradients: [Float], _ present: Tensor?) -> Tensor? {
                present == nil ? nil : DisentangledAttention.gatherHeads(perTaskGradients, tasks: sequences * heads, heads: heads,
                                                                         rows: positional.rows, headDim: d)
            }
            dPositional = DisentangledAttention.Projected(key: gather(dPositionKey, positional.key), query: gather(dPositionQuery, positional.query))
        }
        return (dq, dk, dv, dPositional)
    }
}
