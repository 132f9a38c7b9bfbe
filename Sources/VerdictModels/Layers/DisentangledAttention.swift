import Foundation
import VerdictTensor

/// DeBERTa's disentangled attention (He et al., 2021) as `transformers`' `DisentangledSelfAttention`:
/// besides content-to-content `q_i · k_j`, the scores get content-to-position (c2p) and
/// position-to-content (p2c) terms read from a table of relative-position embeddings,
///
///     score(i, j) = (q_i · k_j + q_i · Kᵣ[δ(i, j)] + k_j · Qᵣ[δ(i, j)]) / √(d · (1 + #terms))
///
/// with `Kᵣ`, `Qᵣ` the `[2·span, hidden]` relative embeddings (`RelativeEmbeddings`, after
/// dropout) put through the layer's key and query projections (`share_att_key`) or its own
/// `pos_key_proj` / `pos_query_proj`, and `δ(i, j) = clamp(bucket(i − j) + span, 0, 2·span − 1)`.
/// (`transformers` gathers p2c at `−bucket(j − i)`, which is the same row: buckets are odd.)
///
/// `PackedAttention` adds the terms to each (sequence, head)'s scores and takes their gradient
/// from the scores' gradient (`addScores`, `accumulateGradients`); `project` and
/// `projectBackward` are the projections of the table, once per layer and forward.
struct DisentangledAttention {
    /// Prefix of the `Linear` giving `Kᵣ` (c2p), `nil` without the c2p term.
    var positionKey: String?
    /// Prefix of the `Linear` giving `Qᵣ` (p2c), `nil` without the p2c term.
    var positionQuery: String?
    /// `position_buckets`: distances beyond half of it share logarithmic buckets; 0 for none.
    var buckets: Int
    /// `max_relative_positions`: the distance the largest bucket stands for.
    var maxDistance: Int
    /// Dropout on the relative embeddings before the projections (`hidden_dropout_prob`).
    var dropout: Float

    /// Half the number of rows of the relative table (`att_span`).
    var span: Int { Self.span(buckets: buckets, maxDistance: maxDistance) }

    /// `att_span`: the bucket count when positions are bucketed, else `max_relative_positions`.
    static func span(buckets: Int, maxDistance: Int) -> Int { buckets > 0 ? buckets : maxDistance }

    /// `make_log_bucket_position` in the same float32 arithmetic: distances up to `buckets / 2`
    /// are exact; beyond, `⌈log(|r| / mid) / log((maxDistance − 1) / mid) · (mid − 1)⌉ + mid`.
    func bucket(_ relative: Int) -> Int {
        guard buckets > 0 else { return relative }
        let mid = buckets / 2, magnitude = abs(relative)
        if magnitude <= mid { return relative }
        let ratio = Float(log(Float(magnitude) / Float(mid)))
        let denominator = Float(log(Float(Double(maxDistance - 1) / Double(mid))))
        let position = Int((ratio / denominator * Float(mid - 1)).rounded(.up)) + mid
        return relative < 0 ? -position : position
    }

    /// The table row `δ` of every distance `i − j = −(length − 1) … length − 1`, index `i − j + length − 1`.
    func rowsByDistance(length: Int) -> [Int] {
        (-(length - 1)..<max(length, 1)).map { min(max(bucket($0) + span, 0), 2 * span - 1) }
    }

    // MARK: Projections of the relative table

    /// `Kᵣ` and `Qᵣ` for the table rows `firstRow ..< firstRow + rows` (those a batch uses), or
    /// their gradients.
    struct Projected {
        var key: Tensor?
        var query: Tensor?
        var firstRow = 0
        /// The terms that projected them (nil for a gradient).
        var terms: DisentangledAttention? = nil

        /// How many table rows were projected.
        var rows: Int { (key ?? query)?.shape[0] ?? 0 }
    }

    /// The table rows a batch whose longest sequence has `length` tokens reads: short inputs use a
    /// few of the `2·span`, and only those are projected.
    func rowsUsed(length: Int) -> Range<Int> {
        let rows = rowsByDistance(length: length)
        guard let lo = rows.min(), let hi = rows.max() else { return 0..<0 }
        return lo..<(hi + 1)
    }

    /// What `projectBackward` reads.
    struct Cache {
        var input: Tensor
        var drop: [Float]?
        /// The rows of the `[2·span, hidden]` table that were projected.
        var rows: Range<Int>, tableRows: Int
    }

    /// Dropout on the shared relative embeddings' rows `rows`, then this layer's projections of them.
    func project(_ relative: Tensor, rows: Range<Int>, _ p: ParameterStore, rng: inout SplitMix64?) -> (Projected, Cache) {
        var input = relative.rows(rows)
        let drop = Dropout.mask(count: input.count, p: dropout, rng: &rng)
        Dropout.apply(&input, drop)
        return (Projected(key: positionKey.map { p.linear(input, $0) }, query: positionQuery.map { p.linear(input, $0) }, firstRow: rows.lowerBound,
                          terms: self),
                Cache(input: input, drop: drop, rows: rows, tableRows: relative.shape[0]))
    }

    /// Accumulates the projections' parameter gradients; returns the gradient of the whole
    /// relative table (zero in the rows that were not projected).
    func projectBackward(_ d: Projected, cache c: Cache, _ p: ParameterStore, grads: inout ParameterStore) -> Tensor {
        var dInput = Tensor(shape: c.input.shape)
        for (name, gradient) in [(positionKey, d.key), (positionQuery, d.query)] {
            guard let name, let gradient else { continue }
            let dx = p.linearBackward(gradient, input: c.input, name, grads: &grads)
            Ops.addInPlace(&dInput, dx)
        }
        Dropout.apply(&dInput, c.drop)
        let width = dInput.shape[1]
        var dTable = Tensor(shape: [c.tableRows, width])
        dTable.scalars.replaceSubrange((c.rows.lowerBound * width)..<(c.rows.upperBound * width), with: dInput.scalars)
        return dTable
    }

    // MARK: One (sequence, head)

    /// Where one (sequence, head) task finds its rows: `q`, `k` (and their gradients) are `length`
    /// rows `stride` apart; the head's columns start at `column` in `Kᵣ`, `Qᵣ`.
    struct Task {
        var length: Int, headDim: Int, stride: Int, column: Int
        /// `rowsByDistance` of the batch's longest sequence, and that length.
        var rows: UnsafePointer<Int>, longest: Int

        /// Row of query `i` and key `j` among the projected rows (table row less `firstRow`).
        var firstRow = 0
        func row(_ i: Int, _ j: Int) -> Int { rows[i - j + longest - 1] - firstRow }
    }

    /// Adds `q_i · Kᵣ[δ(i, j)] + k_j · Qᵣ[δ(i, j)]` to the unscaled `[l, l]` scores.
    func addScores(_ scores: UnsafeMutablePointer<Float>, task t: Task, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                   positional: Projected) {
        let l = t.length, width = positional.rows
        var terms = [Float](repeating: 0, count: l * width)
        // c2p: query i reads column δ(i, j) of its row of Q Kᵣᵀ.
        if let key = positional.key {
            key.scalars.withUnsafeBufferPointer { kr in
                gemm(transposeB: true, m: l, n: width, k: t.headDim, a: q, lda: t.stride, b: kr.baseAddress! + t.column, ldb: t.stride,
                     c: &terms, ldc: width, parallel: false)
            }
            for i in 0..<l { for j in 0..<l { scores[i * l + j] += terms[i * width + t.row(i, j)] } }
        }
        // p2c: key j reads column δ(i, j) of its row of K Qᵣᵀ.
        if let query = positional.query {
            query.scalars.withUnsafeBufferPointer { qr in
                gemm(transposeB: true, m: l, n: width, k: t.headDim, a: k, lda: t.stride, b: qr.baseAddress! + t.column, ldb: t.stride,
                     c: &terms, ldc: width, parallel: false)
            }
            for i in 0..<l { for j in 0..<l { scores[i * l + j] += terms[j * width + t.row(i, j)] } }
        }
    }

    /// Given the gradient `dScores` of the unscaled scores, adds the terms' share to `dq` and `dk`
    /// and writes this task's `[rows, headDim]` gradients of `Kᵣ`, `Qᵣ` (its head's columns) to
    /// `dKey`, `dQuery`.
    func accumulateGradients(_ dScores: [Float], task t: Task, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                             dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, positional: Projected,
                             dKey: UnsafeMutablePointer<Float>?, dQuery: UnsafeMutablePointer<Float>?) {
        let l = t.length, width = positional.rows, d = t.headDim
        var dTerms = [Float](repeating: 0, count: l * width)
        if let key = positional.key, let dKey {
            for i in 0..<l { for j in 0..<l { dTerms[i * width + t.row(i, j)] += dScores[i * l + j] } }
            key.scalars.withUnsafeBufferPointer { kr in
                gemm(m: l, n: d, k: width, a: dTerms, lda: width, b: kr.baseAddress! + t.column, ldb: t.stride, beta: 1, c: dq, ldc: t.stride, parallel: false)
            }
            gemm(transposeA: true, m: width, n: d, k: l, a: dTerms, lda: width, b: q, ldb: t.stride, c: dKey, ldc: d, parallel: false)
        }
        if let query = positional.query, let dQuery {
            dTerms.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            for i in 0..<l { for j in 0..<l { dTerms[j * width + t.row(i, j)] += dScores[i * l + j] } }
            query.scalars.withUnsafeBufferPointer { qr in
                gemm(m: l, n: d, k: width, a: dTerms, lda: width, b: qr.baseAddress! + t.column, ldb: t.stride, beta: 1, c: dk, ldc: t.stride, parallel: false)
            }
            gemm(transposeA: true, m: width, n: d, k: l, a: dTerms, lda: width, b: k, ldb: t.stride, c: dQuery, ldc: d, parallel: false)
        }
    }

    /// Sums per-task `[2·span, headDim]` gradients (task `s · heads + h`) into `[2·span, hidden]`.
    static func gatherHeads(_ perTask: [Float], tasks: Int, heads: Int, rows: Int, headDim d: Int) -> Tensor {
        let hidden = heads * d
        var out = Tensor(shape: [rows, hidden])
        for task in 0..<tasks {
            let h = task % heads, base = task * rows * d
            for r in 0..<rows { for e in 0..<d { out.scalars[r * hidden + h * d + e] += perTask[base + r * d + e] } }
        }
        return out
    }
}

/// DeBERTa's table of relative-position embeddings (`encoder.rel_embeddings.weight`,
/// `[2·span, hidden]`), normalised by `encoder.LayerNorm` when `norm_rel_ebd` asks: computed
/// once per forward by `TransformerStack` and shared by every layer, whose gradients add up here.
struct RelativeEmbeddings {
    let table: String
    /// Prefix of the LayerNorm, `nil` when the table is used as it is.
    var norm: String?
    var eps: Float

    func forward(_ p: ParameterStore) -> (Tensor, Ops.NormCache?) {
        guard let norm else { return (p[table], nil) }
        let (y, cache) = p.layerNorm(p[table], norm, eps: eps)
        return (y, cache)
    }

    func backward(_ dy: Tensor, normCache: Ops.NormCache?, _ p: ParameterStore, grads: inout ParameterStore) {
        var dTable = dy
        if let norm, let normCache { dTable = p.layerNormBackward(dy, input: p[table], cache: normCache, norm, grads: &grads) }
        grads.accumulate(table, dTable)
    }
}
