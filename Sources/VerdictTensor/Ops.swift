import VerdictParallel
import Foundation
import CVerdictKernels

/// The activation functions of BERT-family configs (`hidden_act` / `activation`).
public enum Activation: String, Sendable {
    /// GELU with the exact erf (`"gelu"`).
    case gelu
    /// GELU with the tanh approximation (`"gelu_new"`, `"gelu_pytorch_tanh"`).
    case geluTanh = "gelu_new"
    case relu
    case tanh
    /// `x · sigmoid(x)` (`"silu"`, `"swish"`).
    case silu

    /// Parses a `transformers` activation name.
    public init?(configName: String) {
        switch configName {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        case "tanh": self = .tanh
        case "silu", "swish": self = .silu
        default: return nil
        }
    }
}

/// Fast forward and backward operations on `Tensor`s, backed by CVerdictKernels and split across
/// cores. Every operation has a plain-loop twin in `ReferenceOps` that tests compare it with.
package enum Ops {
    /// `x · weightᵀ + bias` for `x` `[rows, in]` and a PyTorch-layout `weight` `[out, in]`.
    package static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
        let inFeatures = weight.shape[1], outFeatures = weight.shape[0]
        precondition(x.shape[x.rank - 1] == inFeatures, "linear: input width \(x.shape) vs \(inFeatures) input features")
        precondition(bias.map { $0.count == outFeatures } ?? true, "linear: bias of \(bias?.count ?? 0) values for \(outFeatures) output features")
        let rows = x.count / inFeatures
        // The multiply writes every output (bias included): no fill pass.
        return Tensor(shape: Array(x.shape.dropLast()) + [outFeatures]) { out in
            x.scalars.withUnsafeBufferPointer { xp in
                weight.scalars.withUnsafeBufferPointer { wp in
                    guard let yp = out.baseAddress, let xb = xp.baseAddress, let wb = wp.baseAddress else { return }
                    func multiply(_ bias: UnsafePointer<Float>?) {
                        gemm(transposeB: true, m: rows, n: outFeatures, k: inFeatures, a: xb, lda: inFeatures, b: wb, ldb: inFeatures,
                             bias: bias, c: yp, ldc: outFeatures)
                    }
                    if let bias { bias.scalars.withUnsafeBufferPointer { multiply($0.baseAddress) } } else { multiply(nil) }
                }
            }
        }
    }

    /// `linear` with the weight pre-packed (`PackedMatrix(linearWeight:)`): the same result, without
    /// re-packing the weight on every call.
    package static func linear(_ x: Tensor, packedWeight: PackedMatrix, bias: Tensor?) -> Tensor {
        let k = packedWeight.depth, n = packedWeight.columns
        precondition(x.shape[x.rank - 1] == k, "linear: input width \(x.shape) vs \(k) input features")
        precondition(bias.map { $0.count == n } ?? true, "linear: bias of \(bias?.count ?? 0) values for \(n) output features")
        let rows = x.count / k
        // The multiply writes every output (bias included in its first block): no fill pass.
        return Tensor(shape: Array(x.shape.dropLast()) + [n]) { out in
            x.scalars.withUnsafeBufferPointer { xp in
                guard let yp = out.baseAddress, let xb = xp.baseAddress else { return }
                if let bias {
                    bias.scalars.withUnsafeBufferPointer { gemm(m: rows, a: xb, lda: k, packed: packedWeight, bias: $0.baseAddress, c: yp, ldc: n) }
                } else {
                    gemm(m: rows, a: xb, lda: k, packed: packedWeight, c: yp, ldc: n)
                }
            }
        }
    }

    /// Backward of `linear`: accumulates `dWeight += dyᵀ · x`, `dBias += Σ dy` and returns `dx = dy · weight`.
    package static func linearBackward(_ dy: Tensor, input x: Tensor, weight: Tensor,
                                       dWeight: inout Tensor, dBias: inout Tensor?) -> Tensor {
        accumulateLinearGradients(dy, input: x, weight: weight, dWeight: &dWeight, dBias: &dBias)
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1], rows = dy.count / outFeatures
        // Written whole by the multiply (beta 0): no zero fill.
        return Tensor(shape: Array(dy.shape.dropLast()) + [inFeatures]) { dxp in
            dy.scalars.withUnsafeBufferPointer { dyp in
                weight.scalars.withUnsafeBufferPointer { wp in
                    guard let dxb = dxp.baseAddress, let dyb = dyp.baseAddress, let wb = wp.baseAddress else { return }
                    gemm(m: rows, n: inFeatures, k: outFeatures, a: dyb, lda: outFeatures, b: wb, ldb: inFeatures, c: dxb, ldc: inFeatures)
                }
            }
        }
    }

    /// The weight and bias part of `linearBackward`: `dWeight += dyᵀ · x`, `dBias += Σ dy`.
    package static func accumulateLinearGradients(_ dy: Tensor, input x: Tensor, weight: Tensor, dWeight: inout Tensor, dBias: inout Tensor?) {
        let outFeatures = weight.shape[0], inFeatures = weight.shape[1], rows = dy.count / outFeatures
        dy.scalars.withUnsafeBufferPointer { dyp in
            x.scalars.withUnsafeBufferPointer { xp in
                dWeight.scalars.withUnsafeMutableBufferPointer { dwp in
                    gemm(transposeA: true, m: outFeatures, n: inFeatures, k: rows, a: dyp.baseAddress!, lda: outFeatures,
                         b: xp.baseAddress!, ldb: inFeatures, beta: 1, c: dwp.baseAddress!, ldc: inFeatures)
                }
            }
            if dBias != nil {
                dBias!.scalars.withUnsafeMutableBufferPointer { vk_sum_rows(dyp.baseAddress!, $0.baseAddress!, rows, outFeatures) }
            }
        }
    }

    /// What `layerNormBackward` needs from the forward pass.
    package struct NormCache: Sendable {
        package var mean: [Float]
        package var rstd: [Float]
    }

    /// Layer normalisation over the last dimension.
    package static func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float) -> (Tensor, NormCache) {
        let n = x.shape[x.rank - 1], rows = x.count / n
        var y = Tensor(shape: x.shape, repeating: 0)
        var cache = NormCache(mean: [Float](repeating: 0, count: rows), rstd: [Float](repeating: 0, count: rows))
        x.scalars.withUnsafeBufferPointer { xp in
            gamma.scalars.withUnsafeBufferPointer { gp in
                beta.scalars.withUnsafeBufferPointer { bp in
                    y.scalars.withUnsafeMutableBufferPointer { yp in
                        cache.mean.withUnsafeMutableBufferPointer { mp in
                            cache.rstd.withUnsafeMutableBufferPointer { rp in
                                let (x0, y0, m0, r0) = (xp.baseAddress!, yp.baseAddress!, mp.baseAddress!, rp.baseAddress!)
                                Parallel.chunks(rows, granularity: 16) { r in
                                    vk_layernorm(x0 + r.lowerBound * n, gp.baseAddress!, bp.baseAddress!, y0 + r.lowerBound * n,
                                                 m0 + r.lowerBound, r0 + r.lowerBound, r.count, n, eps)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (y, cache)
    }

    /// Backward of `layerNorm`: accumulates `dGamma`, `dBeta`; returns `dx`.
    package static func layerNormBackward(_ dy: Tensor, input x: Tensor, gamma: Tensor, cache: NormCache,
                                         dGamma: inout Tensor, dBeta: inout Tensor) -> Tensor {
        let n = x.shape[x.rank - 1], rows = x.count / n
        var dx = Tensor(shape: x.shape, repeating: 0)
        dy.scalars.withUnsafeBufferPointer { dyp in
            x.scalars.withUnsafeBufferPointer { xp in
                gamma.scalars.withUnsafeBufferPointer { gp in
                    dx.scalars.withUnsafeMutableBufferPointer { dxp in
                        dGamma.scalars.withUnsafeMutableBufferPointer { dgp in
                            dBeta.scalars.withUnsafeMutableBufferPointer { dbp in
                                vk_layernorm_backward(dyp.baseAddress!, xp.baseAddress!, gp.baseAddress!, cache.mean, cache.rstd,
                                                      dxp.baseAddress!, dgp.baseAddress!, dbp.baseAddress!, rows, n)
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// Applies `activation` element-wise.
    package static func activate(_ x: Tensor, _ activation: Activation) -> Tensor {
        let n = x.count
        // Every element is written: no copy of x first.
        return Tensor(shape: x.shape) { yp in
            x.scalars.withUnsafeBufferPointer { xp in
                guard let x0 = xp.baseAddress, let y0 = yp.baseAddress else { return }
                Parallel.chunks(n, granularity: 4096) { r in
                    let (xs, ys) = (x0 + r.lowerBound, y0 + r.lowerBound)
                    switch activation {
                    case .gelu: vk_gelu(xs, ys, r.count)
                    case .geluTanh: vk_gelu_tanh(xs, ys, r.count)
                    case .relu: for i in 0..<r.count { ys[i] = max(xs[i], 0) }
                    case .tanh: for i in 0..<r.count { ys[i] = Foundation.tanh(xs[i]) }
                    case .silu: for i in 0..<r.count { ys[i] = xs[i] / (1 + Foundation.exp(-xs[i])) }
                    }
                }
            }
        }
    }

    /// Backward of `activate`: `dy * f'(x)`.
    package static func activationBackward(_ dy: Tensor, input x: Tensor, _ activation: Activation) -> Tensor {
        var dx = dy
        let n = x.count
        dy.scalars.withUnsafeBufferPointer { dyp in
            x.scalars.withUnsafeBufferPointer { xp in
                dx.scalars.withUnsafeMutableBufferPointer { dxp in
                    let (d0, x0, o0) = (dyp.baseAddress!, xp.baseAddress!, dxp.baseAddress!)
                    Parallel.chunks(n, granularity: 4096) { r in
                        let (ds, xs, os) = (d0 + r.lowerBound, x0 + r.lowerBound, o0 + r.lowerBound)
                        switch activation {
                        case .gelu: vk_gelu_backward(ds, xs, os, r.count)
                        case .geluTanh: vk_gelu_tanh_backward(ds, xs, os, r.count)
                        case .relu: for i in 0..<r.count { os[i] = xs[i] > 0 ? ds[i] : 0 }
                        case .tanh: for i in 0..<r.count { let t = Foundation.tanh(xs[i]); os[i] = ds[i] * (1 - t * t) }
                        case .silu:
                            for i in 0..<r.count {
                                let s = 1 / (1 + Foundation.exp(-xs[i]))
                                os[i] = ds[i] * s * (1 + xs[i] * (1 - s))
                            }
                        }
                    }
                }
            }
        }
        return dx
    }

    /// `a + b`, element-wise.
    package static func add(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.count == b.count, "add: \(a.shape) + \(b.shape)")
        var y = a
        y.scalars.withUnsafeMutableBufferPointer { yp in b.scalars.withUnsafeBufferPointer { vk_add(yp.baseAddress!, $0.baseAddress!, a.count) } }
        return y
    }

    /// Adds `b` into `a` in place.
    package static func addInPlace(_ a: inout Tensor, _ b: Tensor) {
        precondition(a.count == b.count, "add: \(a.shape) + \(b.shape)")
        a.scalars.withUnsafeMutableBufferPointer { yp in b.scalars.withUnsafeBufferPointer { vk_add(yp.baseAddress!, $0.baseAddress!, b.count) } }
    }

    /// Softmax over each row of a `[rows, n]` buffer, after scaling by `scale`, in place.
    package static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, rowStride: Int, scale: Float = 1) {
        vk_softmax_rows(x, rows, n, rowStride, scale)
    }
}
