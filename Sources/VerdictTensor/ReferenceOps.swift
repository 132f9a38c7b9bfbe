import Foundation

/// Plain-loop implementations of `Ops`, written for obviousness rather than speed, in double
/// precision. Tests compare the fast kernels with these.
package enum ReferenceOps {
    /// `op(a) · op(b)` for matrices.
    package static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let m = transposeA ? a.shape[1] : a.shape[0], k = transposeA ? a.shape[0] : a.shape[1]
        let n = transposeB ? b.shape[0] : b.shape[1]
        var y = Tensor(shape: [m, n])
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let av = transposeA ? a.scalars[p * m + i] : a.scalars[i * k + p]
                    let bv = transposeB ? b.scalars[j * k + p] : b.scalars[p * n + j]
                    s += Double(av) * Double(bv)
                }
                y.scalars[i * n + j] = Float(s)
            }
        }
        return y
    }

    /// Layer normalisation over the last dimension.
    package static func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float) -> Tensor {
        let n = x.shape[x.rank - 1]
        var y = x
        for r in 0..<(x.count / n) {
            let row = x.scalars[(r * n)..<((r + 1) * n)].map(Double.init)
            let mean = row.reduce(0, +) / Double(n)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            for i in 0..<n {
                y.scalars[r * n + i] = Float((row[i] - mean) / (variance + Double(eps)).squareRoot() * Double(gamma.scalars[i]) + Double(beta.scalars[i]))
            }
        }
        return y
    }

    /// RMS normalisation over the last dimension: `γ ⊙ x / √(mean(x²) + ε)`.
    package static func rmsNorm(_ x: Tensor, gamma: Tensor, eps: Float) -> Tensor {
        let n = x.shape[x.rank - 1]
        var y = x
        for r in 0..<(x.count / n) {
            let row = x.scalars[(r * n)..<((r + 1) * n)].map(Double.init)
            let rms = (row.map { $0 * $0 }.reduce(0, +) / Double(n) + Double(eps)).squareRoot()
            for i in 0..<n { y.scalars[r * n + i] = Float(row[i] / rms * Double(gamma.scalars[i])) }
        }
        return y
    }

    /// Element-wise activation.
    package static func activate(_ x: Tensor, _ activation: Activation) -> Tensor {
        var y = x
        for i in 0..<x.count {
            let v = Double(x.scalars[i])
            switch activation {
            case .gelu: y.scalars[i] = Float(0.5 * v * (1 + erf(v / 2.0.squareRoot())))
            case .geluTanh: y.scalars[i] = Float(0.5 * v * (1 + tanh((2 / Double.pi).squareRoot() * (v + 0.044715 * v * v * v))))
            case .relu: y.scalars[i] = Float(max(v, 0))
            case .tanh: y.scalars[i] = Float(tanh(v))
            case .silu: y.scalars[i] = Float(v / (1 + exp(-v)))
            }
        }
        return y
    }

    /// Softmax over the last dimension.
    package static func softmax(_ x: Tensor) -> Tensor {
        let n = x.shape[x.rank - 1]
        var y = x
        for r in 0..<(x.count / n) {
            let row = x.scalars[(r * n)..<((r + 1) * n)].map(Double.init)
            let m = row.max() ?? 0
            let e = row.map { Foundation.exp($0 - m) }
            let s = e.reduce(0, +)
            for i in 0..<n { y.scalars[r * n + i] = Float(e[i] / s) }
        }
        return y
    }
}

extension ReferenceOps {
    /// The int8 scheme of `Ops.linear(_:quantizedWeight:bias:)`, step by step: each row of `x`
    /// quantised to `UInt8` over `[min(0, x), max(0, x)]` in 255 steps, integer dot products with
    /// the quantised weight `q` (`[out, in]`), then `(Σ - zero · Σq) · (rowScale · scale) + bias` in
    /// one fused multiply-add. The fast kernels must match this bit for bit.
    package static func quantizedLinear(_ x: Tensor, quantized q: [Int8], scales: [Float], bias: Tensor?) -> Tensor {
        let out = scales.count, k = q.count / max(1, out), rows = x.count / max(1, k)
        var y = Tensor(shape: Array(x.shape.dropLast()) + [out])
        for r in 0..<rows {
            let row = Array(x.scalars[(r * k)..<((r + 1) * k)])
            let lo = min(0, row.min() ?? 0), hi = max(0, row.max() ?? 0)
            var scale = (hi - lo) / 255, zero: Int32 = 0
            if scale > 0 && scale.isFinite { zero = Int32(min(255, max(0, (-lo / scale).rounded(.toNearestOrEven)))) } else { scale = 1 }
            let inverse = 1 / scale
            let qx = row.map { Int32(min(255, max(0, ($0 * inverse).rounded(.toNearestOrEven) + Float(zero)))) }
            for n in 0..<out {
                var dot: Int32 = 0, sum: Int32 = 0
                for p in 0..<k { dot += qx[p] * Int32(q[n * k + p]); sum += Int32(q[n * k + p]) }
                y.scalars[r * out + n] = (bias?.scalars[n] ?? 0).addingProduct(Float(dot - zero * sum), scale * scales[n])
            }
        }
        return y
    }
}

extension ReferenceOps {
    /// Attention of one sequence and head in double precision: `q`, `k`, `v` `[l, d]`;
    /// query `i` sees keys `j` with `j <= i` when `causal` and `|i − j| <= window` when given.
    package static func attention(q: Tensor, k: Tensor, v: Tensor, scale: Float, causal: Bool, window: Int?) -> Tensor {
        let l = q.shape[0], d = q.shape[1]
        var out = Tensor(shape: [l, d])
        for i in 0..<l {
            let keys = (0..<l).filter { j in (!causal || j <= i) && (window.map { abs(i - j) <= $0 } ?? true) }
            let scores = keys.map { j in Double(scale) * (0..<d).reduce(0.0) { $0 + Double(q.scalars[i * d + $1]) * Double(k.scalars[j * d + $1]) } }
            let m = scores.max() ?? 0
            let e = scores.map { Foundation.exp($0 - m) }, sum = e.reduce(0, +)
            for p in 0..<d { out.scalars[i * d + p] = Float(zip(keys, e).reduce(0.0) { $0 + $1.1 / sum * Double(v.scalars[$1.0 * d + p]) }) }
        }
        return out
    }
}
