/// Root-mean-square normalisation (Zhang & Sennrich, 2019) as LLaMA-family models use it:
/// `y = γ ⊙ x / √(mean(x²) + ε)`, no centring and no bias.
extension Ops {
    /// RMS normalisation over the last dimension. The cache's `mean` is empty; `rstd` holds
    /// `1 / √(mean(x²) + ε)` per row.
    package static func rmsNorm(_ x: Tensor, gamma: Tensor, eps: Float) -> (Tensor, NormCache) {
        let n = x.shape[x.rank - 1], rows = x.count / n
        var y = Tensor(shape: x.shape)
        var rstd = [Float](repeating: 0, count: rows)
        x.scalars.withUnsafeBufferPointer { xp in
        gamma.scalars.withUnsafeBufferPointer { gp in
        y.scalars.withUnsafeMutableBufferPointer { yp in
        rstd.withUnsafeMutableBufferPointer { rp in
            let (x0, g0, y0, r0) = (xp.baseAddress!, gp.baseAddress!, yp.baseAddress!, rp.baseAddress!)
            Parallel.chunks(rows, granularity: 16) { range in
                for r in range {
                    let row = x0 + r * n, out = y0 + r * n
                    var sum: Float = 0
                    for i in 0..<n { sum += row[i] * row[i] }
                    let s = 1 / (sum / Float(n) + eps).squareRoot()
                    r0[r] = s
                    for i in 0..<n { out[i] = g0[i] * (row[i] * s) }
                }
            }
        }}}}
        return (y, NormCache(mean: [], rstd: rstd))
    }

    /// Backward of `rmsNorm`: accumulates `dGamma`; returns `dx`. With `x̂ = x · rstd` and
    /// `g = γ ⊙ dy`: `dx = rstd · (g − x̂ · mean(g ⊙ x̂))`.
    package static func rmsNormBackward(_ dy: Tensor, input x: Tensor, gamma: Tensor, cache: NormCache, dGamma: inout Tensor) -> Tensor {
        let n = x.shape[x.rank - 1], rows = x.count / n
        var dx = Tensor(shape: x.shape)
        // Per-chunk γ gradients, summed afterwards (chunks run in parallel).
        let chunkCount = max(1, min(Parallel.threadCount, rows))
        var partial = [Float](repeating: 0, count: chunkCount * n)
        dy.scalars.withUnsafeBufferPointer { dyp in
        x.scalars.withUnsafeBufferPointer { xp in
        gamma.scalars.withUnsafeBufferPointer { gp in
        dx.scalars.withUnsafeMutableBufferPointer { dxp in
        partial.withUnsafeMutableBufferPointer { pp in
            let (dy0, x0, g0, dx0, p0) = (dyp.baseAddress!, xp.baseAddress!, gp.baseAddress!, dxp.baseAddress!, pp.baseAddress!)
            Parallel.forEach(chunkCount) { chunk in
                let lo = chunk * rows / chunkCount, hi = (chunk + 1) * rows / chunkCount
                let dG = p0 + chunk * n
                for r in lo..<hi {
                    let s = cache.rstd[r], row = x0 + r * n, d = dy0 + r * n, out = dx0 + r * n
                    var dot: Float = 0
                    for i in 0..<n {
                        let normalized = row[i] * s
                        dG[i] += d[i] * normalized
                        dot += g0[i] * d[i] * normalized
                    }
                    let mean = dot / Float(n)
                    for i in 0..<n { out[i] = s * (g0[i] * d[i] - row[i] * s * mean) }
                }
            }
        }}}}}
        for c in 0..<chunkCount { for i in 0..<n { dGamma.scalars[i] += partial[c * n + i] } }
        return dx
    }
}
