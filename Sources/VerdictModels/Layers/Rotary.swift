import Foundation
import VerdictTensor

/// Rotary position embedding (Su et al., 2021) as `transformers` applies it (`rotate_half`): in
/// each head, dimension `i < d/2` and its partner `i + d/2` are rotated by the angle
/// `position · θ^(−2i/d)`. Applied to queries and keys before attention; the backward pass is
/// the inverse rotation.
struct Rotary {
    let theta: Float
    let headDim: Int

    /// `1 / θ^(2i/d)` for `i < d/2`, in float32 as `transformers` computes it.
    private var inverseFrequencies: [Float] {
        (0..<(headDim / 2)).map { 1 / pow(theta, Float(2 * $0) / Float(headDim)) }
    }

    /// Rotates each head of `x` (`[tokens, heads · headDim]`) in place, by `+angle` forward or
    /// `−angle` (`inverse`, the backward pass).
    func rotate(_ x: inout Tensor, positions: [Int32], inverse: Bool = false) {
        let half = headDim / 2, width = x.shape[1], heads = width / headDim
        let frequencies = inverseFrequencies
        let sign: Float = inverse ? -1 : 1
        x.scalars.withUnsafeMutableBufferPointer { xp in
            let x0 = xp.baseAddress!
            Parallel.chunks(positions.count, granularity: 16) { tokens in
                var cosines = [Float](repeating: 0, count: half), sines = [Float](repeating: 0, count: half)
                for t in tokens {
                    for i in 0..<half {
                        let angle = Float(positions[t]) * frequencies[i]
                        cosines[i] = cos(angle); sines[i] = sign * sin(angle)
                    }
                    for h in 0..<heads {
                        let row = x0 + t * width + h * headDim
                        for i in 0..<half {
                            let a = row[i], b = row[i + half]
                            row[i] = a * cosines[i] - b * sines[i]
                            row[i + half] = b * cosines[i] + a * sines[i]
                        }
                    }
                }
            }
        }
    }
}
