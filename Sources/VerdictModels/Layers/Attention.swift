import VerdictTensor

/// Scaled dot-product attention over a packed batch: for each sequence and head,
/// `softmax(Q Kᵀ / √d) V`. No padding exists, so no mask is needed; (sequence, head) pairs run
/// in parallel, each with single-threaded kernels.
enum PackedAttention {
    struct Cache {
        var q: Tensor, k: Tensor, v: Tensor
        /// Softmax probabilities of every (sequence, head), flattened; `probOffsets` index it.
        var probs: [Float]
        var probOffsets: [Int]
        /// Dropout mask on the probabilities, same layout as `probs`.
        var dropMask: [Float]?
    }

    /// `q`, `k`, `v`: `[tokens, hidden]`. Returns the context `[tokens, hidden]`.
    static func forward(q: Tensor, k: Tensor, v: Tensor, offsets: [Int], heads: Int,
                        dropout: Float, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, Cache?) {
        let hidden = q.shape[1], d = hidden / heads, sequences = offsets.count - 1
        var probOffsets = [0]
        for s in 0..<sequences {
            let l = offsets[s + 1] - offsets[s]
            for _ in 0..<heads { probOffsets.append(probOffsets.last! + l * l) }
        }
        var probs = [Float](repeating: 0, count: probOffsets.last!)
        var context = Tensor(shape: q.shape)
        let scale = 1 / Float(d).squareRoot()
        let dropMask = Dropout.mask(count: probs.count, p: dropout, rng: &rng)
        q.scalars.withUnsafeBufferPointer { qp in
            k.scalars.withUnsafeBufferPointer { kp in
                v.scalars.withUnsafeBufferPointer { vp in
                    context.scalars.withUnsafeMutableBufferPointer { cp in
                        probs.withUnsafeMutableBufferPointer { pp in
                            let (q0, k0, v0, c0, p0) = (qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, cp.baseAddress!, pp.baseAddress!)
                            Parallel.forEach(sequences * heads) { task in
                                let s = task / heads, h = task % heads
                                let start = offsets[s], l = offsets[s + 1] - start
                                if l == 0 { return }
                                let rowOffset = start * hidden + h * d
                                let p = p0 + probOffsets[task]
                                gemm(transposeB: true, m: l, n: l, k: d, a: q0 + rowOffset, lda: hidden, b: k0 + rowOffset, ldb: hidden,
                                     c: p, ldc: l, parallel: false)
                                Ops.softmaxRows(p, rows: l, n: l, rowStride: l, scale: scale)
                                if let dropMask {
                                    let dropped = (0..<(l * l)).map { p[$0] * dropMask[probOffsets[task] + $0] }
                                    gemm(m: l, n: d, k: l, a: dropped, lda: l, b: v0 + rowOffset, ldb: hidden,
                                         c: c0 + rowOffset, ldc: hidden, parallel: false)
                                } else {
                                    gemm(m: l, n: d, k: l, a: p, lda: l, b: v0 + rowOffset, ldb: hidden,
                                         c: c0 + rowOffset, ldc: hidden, parallel: false)
                                }
                            }
                        }
                    }
                }
            }
        }
        let cache = keepCache ? Cache(q: q, k: k, v: v, probs: probs, probOffsets: probOffsets, dropMask: dropMask) : nil
        return (context, cache)
    }

    /// Gradients of `q`, `k`, `v` given the gradient of the context.
    static func backward(_ dContext: Tensor, cache c: Cache, offsets: [Int], heads: Int) -> (Tensor, Tensor, Tensor) {
        let hidden = c.q.shape[1], d = hidden / heads, sequences = offsets.count - 1
        let scale = 1 / Float(d).squareRoot()
        var dq = Tensor(shape: c.q.shape), dk = Tensor(shape: c.k.shape), dv = Tensor(shape: c.v.shape)
        c.q.scalars.withUnsafeBufferPointer { qp in
        c.k.scalars.withUnsafeBufferPointer { kp in
        c.v.scalars.withUnsafeBufferPointer { vp in
        dContext.scalars.withUnsafeBufferPointer { dcp in
        c.probs.withUnsafeBufferPointer { pp in
        dq.scalars.withUnsafeMutableBufferPointer { dqp in
        dk.scalars.withUnsafeMutableBufferPointer { dkp in
        dv.scalars.withUnsafeMutableBufferPointer { dvp in
            let (q0, k0, v0, dc0, p0) = (qp.baseAddress!, kp.baseAddress!, vp.baseAddress!, dcp.baseAddress!, pp.baseAddress!)
            let (dq0, dk0, dv0) = (dqp.baseAddress!, dkp.baseAddress!, dvp.baseAddress!)
            Parallel.forEach(sequences * heads) { task in
                let s = task / heads, h = task % heads
                let start = offsets[s], l = offsets[s + 1] - start
                if l == 0 { return }
                let o = start * hidden + h * d
                let p = p0 + c.probOffsets[task]
                var weights = [Float](UnsafeBufferPointer(start: p, count: l * l))
                if let m = c.dropMask { for i in 0..<(l * l) { weights[i] *= m[c.probOffsets[task] + i] } }
                // dV = P'ᵀ dC
                gemm(transposeA: true, m: l, n: d, k: l, a: weights, lda: l, b: dc0 + o, ldb: hidden, c: dv0 + o, ldc: hidden, parallel: false)
                // dP' = dC Vᵀ, then through dropout and softmax: dS = P ⊙ (dP − Σ dP ⊙ P)
                var dp = [Float](repeating: 0, count: l * l)
                gemm(transposeB: true, m: l, n: l, k: d, a: dc0 + o, lda: hidden, b: v0 + o, ldb: hidden, c: &dp, ldc: l, parallel: false)
                if let m = c.dropMask { for i in 0..<(l * l) { dp[i] *= m[c.probOffsets[task] + i] } }
                for r in 0..<l {
                    var dot: Float = 0
                    for j in 0..<l { dot += dp[r * l + j] * p[r * l + j] }
                    for j in 0..<l { dp[r * l + j] = p[r * l + j] * (dp[r * l + j] - dot) * scale }
                }
                // dQ = dS K, dK = dSᵀ Q
                gemm(m: l, n: d, k: l, a: dp, lda: l, b: k0 + o, ldb: hidden, c: dq0 + o, ldc: hidden, parallel: false)
                gemm(transposeA: true, m: l, n: d, k: l, a: dp, lda: l, b: q0 + o, ldb: hidden, c: dk0 + o, ldc: hidden, parallel: false)
            }
        }}}}}}}}
        return (dq, dk, dv)
    }
}
