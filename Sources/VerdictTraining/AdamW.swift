import Foundation
import VerdictModels
import VerdictTensor

/// AdamW (Loshchilov & Hutter) exactly as `torch.optim.AdamW`: decoupled weight decay applied
/// before the moment update, bias-corrected moments. Like `transformers`' `Trainer`, biases and
/// norm weights get no weight decay (`decays(_:)`).
public struct AdamW: Sendable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    /// Steps taken so far.
    public internal(set) var step = 0
    /// First and second moments, under the parameters' names.
    public internal(set) var m: ParameterStore
    public internal(set) var v: ParameterStore

    public init(parameters: ParameterStore, names: [String], weightDecay: Float = 0) {
        self.weightDecay = weightDecay
        // Two stores of their own (not one shared copy-on-write, which the first step would copy).
        func zeros() -> ParameterStore {
            var store = ParameterStore()
            for n in names { store[n] = Tensor(shape: parameters[n].shape) }
            return store
        }
        m = zeros()
        v = zeros()
    }

    /// Whether `transformers`' `Trainer` decays a parameter: not when its lower-cased name holds
    /// `bias` or it is a norm's (`Trainer.get_decay_parameter_names`).
    public static func decays(_ name: String) -> Bool {
        !(name.lowercased().contains("bias") || ParameterStore.isNormParameter(name))
    }

    /// One update with learning rate `lr`.
    public mutating func update(_ parameters: inout ParameterStore, gradients: ParameterStore, lr: Float) {
        step += 1
        let bc1 = 1 - pow(Double(beta1), Double(step)), bc2 = 1 - pow(Double(beta2), Double(step))
        let stepSize = Float(Double(lr) / bc1), bc2Sqrt = Float(bc2.squareRoot())
        let (b1, b2, eps) = (beta1, beta2, epsilon)
        for name in m.names {
            let decay = Self.decays(name) ? 1 - lr * weightDecay : 1
            let g = gradients[name]
            parameters.modify(name) { p in
                m.modify(name) { mt in
                    v.modify(name) { vt in
                        p.scalars.withUnsafeMutableBufferPointer { pp in
                            mt.scalars.withUnsafeMutableBufferPointer { mp in
                                vt.scalars.withUnsafeMutableBufferPointer { vp in
                                    g.scalars.withUnsafeBufferPointer { gp in
                                        guard let p0 = pp.baseAddress, let m0 = mp.baseAddress, let v0 = vp.baseAddress, let g0 = gp.baseAddress else { return }
                                        Parallel.chunks(pp.count, granularity: 8192) { r in
                                            let i = r.lowerBound
                                            Kernels.adamw(parameters: p0 + i, m: m0 + i, v: v0 + i, gradients: g0 + i, count: r.count, decay: decay, beta1: b1, beta2: b2,
                                                          stepSize: stepSize, bc2Sqrt: bc2Sqrt, eps: eps)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Scales gradients so their global L2 norm is at most `maxNorm` (`clip_grad_norm_`); returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout ParameterStore, names: [String], maxNorm: Float) -> Float {
    var total = 0.0
    for n in names { gradients[n].scalars.withUnsafeBufferPointer { total += sumOfSquares($0) } }
    let norm = Float(total.squareRoot())
    let coefficient = maxNorm / (norm + 1e-6)
    if maxNorm > 0, coefficient < 1 {
        for n in names {
            gradients.modify(n) { t in
                t.scalars.withUnsafeMutableBufferPointer { g in
                    guard let base = g.baseAddress else { return }
                    Parallel.chunks(g.count, granularity: 8192) { Kernels.scale(base + $0.lowerBound, count: $0.count, by: coefficient) }
                }
            }
        }
    }
    return norm
}

/// Σ x², in double precision, on every core for large tensors.
private func sumOfSquares(_ x: UnsafeBufferPointer<Float>) -> Double {
    guard let base = x.baseAddress else { return 0 }
    let chunk = 1 << 16
    if x.count < 2 * chunk { return Kernels.sumOfSquares(base, count: x.count) }
    let parts = (x.count + chunk - 1) / chunk
    var partial = [Double](repeating: 0, count: parts)
    partial.withUnsafeMutableBufferPointer { out in
        guard let sums = out.baseAddress else { return }
        Parallel.forEach(parts) { p in
            let lo = p * chunk, hi = min(x.count, lo + chunk)
            sums[p] = Kernels.sumOfSquares(base + lo, count: hi - lo)
        }
    }
    return partial.reduce(0, +)
}
