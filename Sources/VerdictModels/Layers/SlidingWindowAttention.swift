import Foundation
import VerdictTensor

/// Longformer's self-attention (Beltagy et al., 2020) over a packed batch, with cost linear in
/// the sequence length:
///
/// - a token without global attention attends to the tokens at most `window` positions away that
///   are not global, plus every global token (local `query`/`key`/`value` projections);
/// - a global token attends to every token of its sequence through the `*_global` projections,
///   and that replaces its local output.
///
/// Queries are scaled by `1/√d` after projection, as in `transformers`. The local band is
/// computed in blocks of `window` queries against their `3·window` keys with matrix multiplies.
/// `transformers` pads each sequence to a multiple of `attention_window` and masks the padding;
/// packed sequences need no padding, and the result for real tokens is the same.
struct SlidingWindowAttention {
    let heads: Int
    /// One-sided window: `attention_window / 2`.
    let window: Int
    /// Prefix of the six projections (`…attention.self.`).
    let prefix: String

    var local: [String] { ["query", "key", "value"].map { prefix + $0 } }
    var global: [String] { ["query_global", "key_global", "value_global"].map { prefix + $0 } }

    struct Cache {
        var x: Tensor
        var q: Tensor, k: Tensor, v: Tensor
        var qg: Tensor, kg: Tensor, vg: Tensor
        var layout: Layout
        /// Band probabilities of every (sequence, head, block), then each local row's probabilities
        /// of the global keys, then each global row's probabilities over its sequence.
        var band: [Float], toGlobal: [Float], fromGlobal: [Float]
        /// Dropout masks on the three, when training with attention dropout.
        var bandDrop: [Float]?, toGlobalDrop: [Float]?, fromGlobalDrop: [Float]?
    }

    /// Where each (sequence, head) task keeps its probabilities.
    struct Layout {
        var offsets: [Int]
        var globals: [[Int]]
        var band: [Int], toGlobal: [Int], fromGlobal: [Int]
        let heads: Int, block: Int, window: Int

        init(offsets: [Int], isGlobal: [Bool], heads: Int, window: Int) {
            self.offsets = offsets; self.heads = heads; self.window = window
            block = max(window, 1)
            globals = (0..<(offsets.count - 1)).map { s in (0..<(offsets[s + 1] - offsets[s])).filter { isGlobal[offsets[s] + $0] } }
            band = [0]; toGlobal = [0]; fromGlobal = [0]
            for s in 0..<(offsets.count - 1) {
                let l = offsets[s + 1] - offsets[s], g = globals[s].count
                let bandSize = blocks(length: l).reduce(0) { $0 + $1.queries.count * $1.keys.count }
                for _ in 0..<heads {
                    band.append(band[band.count - 1] + bandSize)
                    toGlobal.append(toGlobal[toGlobal.count - 1] + l * g)
                    fromGlobal.append(fromGlobal[fromGlobal.count - 1] + g * l)
                }
            }
        }

        /// Query blocks of a sequence and the keys each one can see.
        func blocks(length l: Int) -> [(queries: Range<Int>, keys: Range<Int>)] {
            stride(from: 0, to: l, by: block).map { qs in
                let qe = min(l, qs + block)
                return (qs..<qe, max(0, qs - window)..<min(l, qe + window))
            }
        }
    }

    /// `x` `[tokens, hidden]`; `isGlobal` marks tokens with global attention. Returns the context.
    func forward(_ x: Tensor, offsets: [Int], isGlobal: [Bool], _ p: ParameterStore, dropout: Float, rng: inout SplitMix64?,
                 keepCache: Bool) -> (Tensor, Cache?) {
        let hidden = x.shape[1], d = hidden / heads, scale = 1 / Float(d).squareRoot()
        var q = p.linear(x, local[0]), qg = p.linear(x, global[0])
        for i in 0..<q.count { q.scalars[i] *= scale; qg.scalars[i] *= scale }
        let k = p.linear(x, local[1]), v = p.linear(x, local[2]), kg = p.linear(x, global[1]), vg = p.linear(x, global[2])
        let layout = Layout(offsets: offsets, isGlobal: isGlobal, heads: heads, window: window)
        var band = [Float](repeating: 0, count: layout.band.last!), toGlobal = [Float](repeating: 0, count: layout.toGlobal.last!)
        var fromGlobal = [Float](repeating: 0, count: layout.fromGlobal.last!)
        let bandDrop = Dropout.mask(count: band.count, p: dropout, rng: &rng)
        let toGlobalDrop = Dropout.mask(count: toGlobal.count, p: dropout, rng: &rng)
        let fromGlobalDrop = Dropout.mask(count: fromGlobal.count, p: dropout, rng: &rng)
        var context = Tensor(shape: x.shape)
        let w = window
        withPointers(q, k, v, qg, kg, vg) { q0, k0, v0, qg0, kg0, vg0 in
        band.withUnsafeMutableBufferPointer { bp in toGlobal.withUnsafeMutableBufferPointer { tp in
        fromGlobal.withUnsafeMutableBufferPointer { fp in context.scalars.withUnsafeMutableBufferPointer { cp in
            let (b0, t0, f0, c0) = (bp.baseAddress!, tp.baseAddress!, fp.baseAddress!, cp.baseAddress!)
            Parallel.forEach((offsets.count - 1) * heads) { task in
                let s = task / heads, h = task % heads, start = offsets[s], l = offsets[s + 1] - start
                let G = layout.globals[s], column = h * d
                func row(_ base: UnsafePointer<Float>, _ i: Int) -> UnsafePointer<Float> { base + (start + i) * hidden + column }
                var bandAt = b0 + layout.band[task]
                let toG = t0 + layout.toGlobal[task], fromG = f0 + layout.fromGlobal[task]
                for (queries, keys) in layout.blocks(length: l) {
                    let n = keys.count
                    gemm(transposeB: true, m: queries.count, n: n, k: d, a: row(q0, queries.lowerBound), lda: hidden,
                         b: row(k0, keys.lowerBound), ldb: hidden, c: bandAt, ldc: n, parallel: false)
                    for (r, i) in queries.enumerated() {
                        let scores = bandAt + r * n, globalScores = toG + i * G.count
                        if isGlobal[start + i] { scores.update(repeating: 0, count: n); continue }
                        var mx = -Float.infinity
                        for (c, j) in keys.enumerated() {
                            if abs(i - j) > w || isGlobal[start + j] { scores[c] = -.infinity } else { mx = max(mx, scores[c]) }
                        }
                        for (a, g) in G.enumerated() { globalScores[a] = dot(row(q0, i), row(k0, g), d); mx = max(mx, globalScores[a]) }
                        var sum: Float = 0
                        for c in 0..<n { scores[c] = scores[c] == -.infinity ? 0 : exp(scores[c] - mx); sum += scores[c] }
                        for a in 0..<G.count { globalScores[a] = exp(globalScores[a] - mx); sum += globalScores[a] }
                        for c in 0..<n { scores[c] /= sum }
                        for a in 0..<G.count { globalScores[a] /= sum }
                    }
                    let out = c0 + (start + queries.lowerBound) * hidden + column, first = bandAt - b0
                    if let m = bandDrop {
                        let dropped = (0..<(queries.count * n)).map { bandAt[$0] * m[first + $0] }
                        gemm(m: queries.count, n: d, k: n, a: dropped, lda: n, b: row(v0, keys.lowerBound), ldb: hidden, c: out, ldc: hidden, parallel: false)
                    } else {
                        gemm(m: queries.count, n: d, k: n, a: bandAt, lda: n, b: row(v0, keys.lowerBound), ldb: hidden, c: out, ldc: hidden, parallel: false)
                    }
                    for (r, i) in queries.enumerated() where !isGlobal[start + i] {
                        for (a, g) in G.enumerated() {
                            let at = layout.toGlobal[task] + i * G.count + a
                            axpy(toG[i * G.count + a] * (toGlobalDrop?[at] ?? 1), row(v0, g), out + r * hidden, d)
                        }
                    }
                    bandAt += queries.count * n
                }
                for (a, g) in G.enumerated() {  // global rows: full attention through the global projections
                    let scores = fromG + a * l
                    gemm(transposeB: true, m: 1, n: l, k: d, a: row(qg0, g), lda: hidden, b: row(kg0, 0), ldb: hidden, c: scores, ldc: l, parallel: false)
                    Ops.softmaxRows(scores, rows: 1, n: l, rowStride: l)
                    let first = layout.fromGlobal[task] + a * l
                    let out = c0 + (start + g) * hidden + column
                    if let m = fromGlobalDrop {
                        let dropped = (0..<l).map { scores[$0] * m[first + $0] }
                        gemm(m: 1, n: d, k: l, a: dropped, lda: l, b: row(vg0, 0), ldb: hidden, c: out, ldc: hidden, parallel: false)
                    } else {
                        gemm(m: 1, n: d, k: l, a: scores, lda: l, b: row(vg0, 0), ldb: hidden, c: out, ldc: hidden, parallel: false)
                    }
                }
            }
        }}}}}
        let cache = keepCache ? Cache(x: x, q: q, k: k, v: v, qg: qg, kg: kg, vg: vg, layout: layout, band: band, toGlobal: toGlobal,
                                      fromGlobal: fromGlobal, bandDrop: bandDrop, toGlobalDrop: toGlobalDrop, fromGlobalDrop: fromGlobalDrop) : nil
        return (context, cache)
    }

    /// Accumulates the six projections' gradients; returns the gradient of the layer input.
    func backward(_ dContext: Tensor, cache c: Cache, isGlobal: [Bool], _ p: ParameterStore, grads: inout ParameterStore) -> Tensor {
        let hidden = c.x.shape[1], d = hidden / heads, scale = 1 / Float(d).squareRoot(), layout = c.layout, offsets = layout.offsets
        var dq = Tensor(shape: c.q.shape), dk = Tensor(shape: c.k.shape), dv = Tensor(shape: c.v.shape)
        var dqg = Tensor(shape: c.q.shape), dkg = Tensor(shape: c.k.shape), dvg = Tensor(shape: c.v.shape)
        withPointers(c.q, c.k, c.v, c.qg, c.kg, c.vg) { q0, k0, v0, qg0, kg0, vg0 in
        withMutablePointers(&dq, &dk, &dv, &dqg, &dkg, &dvg) { dq0, dk0, dv0, dqg0, dkg0, dvg0 in
        dContext.scalars.withUnsafeBufferPointer { dcp in c.band.withUnsafeBufferPointer { bp in
        c.toGlobal.withUnsafeBufferPointer { tp in c.fromGlobal.withUnsafeBufferPointer { fp in
            let dc0 = dcp.baseAddress!
            Parallel.forEach((offsets.count - 1) * heads) { task in
                let s = task / heads, h = task % heads, start = offsets[s], l = offsets[s + 1] - start
                let G = layout.globals[s], column = h * d
                func at(_ base: UnsafePointer<Float>, _ i: Int) -> UnsafePointer<Float> { base + (start + i) * hidden + column }
                func at(_ base: UnsafeMutablePointer<Float>, _ i: Int) -> UnsafeMutablePointer<Float> { base + (start + i) * hidden + column }
                var bandAt = bp.baseAddress! + layout.band[task]
                let toG = tp.baseAddress! + layout.toGlobal[task], fromG = fp.baseAddress! + layout.fromGlobal[task]
                for (queries, keys) in layout.blocks(length: l) {
                    let n = keys.count, rows = queries.count, first = bandAt - bp.baseAddress!
                    // dV += P'ᵀ dC with P' the dropped-out P;  dP = (dC Vᵀ) ⊙ mask;
                    // dS = P ⊙ (dP − Σ P ⊙ dP) over band and global keys together
                    let weights = c.bandDrop.map { m in (0..<(rows * n)).map { bandAt[$0] * m[first + $0] } }
                        ?? Array(UnsafeBufferPointer(start: bandAt, count: rows * n))
                    gemm(transposeA: true, m: n, n: d, k: rows, a: weights, lda: n, b: at(dc0, queries.lowerBound), ldb: hidden,
                         beta: 1, c: at(dv0, keys.lowerBound), ldc: hidden, parallel: false)
                    var dS = [Float](repeating: 0, count: rows * n)
                    gemm(transposeB: true, m: rows, n: n, k: d, a: at(dc0, queries.lowerBound), lda: hidden, b: at(v0, keys.lowerBound), ldb: hidden,
                         c: &dS, ldc: n, parallel: false)
                    if let m = c.bandDrop { for e in 0..<(rows * n) { dS[e] *= m[first + e] } }
                    var dSGlobal = [Float](repeating: 0, count: rows * G.count)
                    for (r, i) in queries.enumerated() {
                        // A global token's local output was replaced: nothing flows back through it.
                        if isGlobal[start + i] { for c in 0..<n { dS[r * n + c] = 0 }; continue }
                        let probs = bandAt + r * n, dc = at(dc0, i)
                        var total: Float = 0
                        for c in 0..<n { total += probs[c] * dS[r * n + c] }
                        for (a, g) in G.enumerated() {
                            let pg = toG[i * G.count + a], keep = c.toGlobalDrop?[layout.toGlobal[task] + i * G.count + a] ?? 1
                            axpy(pg * keep, dc, at(dv0, g), d)
                            dSGlobal[r * G.count + a] = dot(dc, at(v0, g), d) * keep
                            total += pg * dSGlobal[r * G.count + a]
                        }
                        for c in 0..<n { dS[r * n + c] = probs[c] * (dS[r * n + c] - total) }
                        for a in 0..<G.count { dSGlobal[r * G.count + a] = toG[i * G.count + a] * (dSGlobal[r * G.count + a] - total) }
                    }
                    // dQ = dS K (+ global keys);  dK += dSᵀ Q (+ global keys)
                    gemm(m: rows, n: d, k: n, a: dS, lda: n, b: at(k0, keys.lowerBound), ldb: hidden, c: at(dq0, queries.lowerBound), ldc: hidden, parallel: false)
                    gemm(transposeA: true, m: n, n: d, k: rows, a: dS, lda: n, b: at(q0, queries.lowerBound), ldb: hidden,
                         beta: 1, c: at(dk0, keys.lowerBound), ldc: hidden, parallel: false)
                    for (r, i) in queries.enumerated() where !isGlobal[start + i] {
                        for (a, g) in G.enumerated() {
                            axpy(dSGlobal[r * G.count + a], at(k0, g), at(dq0, i), d)
                            axpy(dSGlobal[r * G.count + a], at(q0, i), at(dk0, g), d)
                        }
                    }
                    bandAt += rows * n
                }
                for (a, g) in G.enumerated() {
                    let probs = fromG + a * l, first = layout.fromGlobal[task] + a * l
                    let weights = c.fromGlobalDrop.map { m in (0..<l).map { probs[$0] * m[first + $0] } } ?? Array(UnsafeBufferPointer(start: probs, count: l))
                    var dS = [Float](repeating: 0, count: l)
                    gemm(transposeA: true, m: l, n: d, k: 1, a: weights, lda: l, b: at(dc0, g), ldb: hidden, beta: 1, c: at(dvg0, 0), ldc: hidden, parallel: false)
                    gemm(transposeB: true, m: 1, n: l, k: d, a: at(dc0, g), lda: hidden, b: at(vg0, 0), ldb: hidden, c: &dS, ldc: l, parallel: false)
                    if let m = c.fromGlobalDrop { for j in 0..<l { dS[j] *= m[first + j] } }
                    var total: Float = 0
                    for j in 0..<l { total += probs[j] * dS[j] }
                    for j in 0..<l { dS[j] = probs[j] * (dS[j] - total) }
                    gemm(m: 1, n: d, k: l, a: dS, lda: l, b: at(kg0, 0), ldb: hidden, c: at(dqg0, g), ldc: hidden, parallel: false)
                    gemm(transposeA: true, m: l, n: d, k: 1, a: dS, lda: l, b: at(qg0, g), ldb: hidden, beta: 1, c: at(dkg0, 0), ldc: hidden, parallel: false)
                }
            }
        }}}}}}
        for i in 0..<dq.count { dq.scalars[i] *= scale; dqg.scalars[i] *= scale }
        var dx = Tensor(shape: c.x.shape)
        for (name, dy) in zip(local + global, [dq, dk, dv, dqg, dkg, dvg]) {
            Ops.addInPlace(&dx, p.linearBackward(dy, input: c.x, name, grads: &grads))
        }
        return dx
    }
}

private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var s: Float = 0
    for i in 0..<n { s += a[i] * b[i] }
    return s
}

/// `y += alpha · x`.
private func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] += alpha * x[i] }
}

private func withPointers<R>(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ d: Tensor, _ e: Tensor, _ f: Tensor,
                             _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                                      UnsafePointer<Float>, UnsafePointer<Float>) -> R) -> R {
    a.scalars.withUnsafeBufferPointer { a in b.scalars.withUnsafeBufferPointer { b in c.scalars.withUnsafeBufferPointer { c in
    d.scalars.withUnsafeBufferPointer { d in e.scalars.withUnsafeBufferPointer { e in f.scalars.withUnsafeBufferPointer { f in
        body(a.baseAddress!, b.baseAddress!, c.baseAddress!, d.baseAddress!, e.baseAddress!, f.baseAddress!)
    }}}}}}
}

private func withMutablePointers<R>(_ a: inout Tensor, _ b: inout Tensor, _ c: inout Tensor, _ d: inout Tensor, _ e: inout Tensor, _ f: inout Tensor,
                                    _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                             UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) -> R) -> R {
    a.scalars.withUnsafeMutableBufferPointer { a in b.scalars.withUnsafeMutableBufferPointer { b in c.scalars.withUnsafeMutableBufferPointer { c in
    d.scalars.withUnsafeMutableBufferPointer { d in e.scalars.withUnsafeMutableBufferPointer { e in f.scalars.withUnsafeMutableBufferPointer { f in
        body(a.baseAddress!, b.baseAddress!, c.baseAddress!, d.baseAddress!, e.baseAddress!, f.baseAddress!)
    }}}}}}
}
