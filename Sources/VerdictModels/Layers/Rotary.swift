import Foundation
import VerdictTensor

/// Rotary position embedding (Su et al., 2021) as `transformers` applies it (`rotate_half`): in
/// each head, dimension `i < d/2` and its partner `i + d/2` are rotated by the angle
/// `position · fᵢ`, `fᵢ = θ^(−2i/d)` (possibly rescaled, see `Scaling`). Applied to queries and
/// keys before attention; the backward pass is the inverse rotation.
struct Rotary: Hashable {
    /// How a checkpoint stretches the frequencies to longer contexts (`rope_scaling` /
    /// `rope_parameters.rope_type`), as `transformers`' `ROPE_INIT_FUNCTIONS` computes them.
    enum Scaling: Hashable {
        case none
        /// Every frequency divided by `factor` (positions interpolated).
        case linear(factor: Float)
        /// LLaMA 3.1: long wavelengths divided by `factor`, short ones kept, a smooth blend between.
        case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalContext: Float)

        var summary: String {
            switch self {
            case .none: return ""
            case let .linear(factor): return String(format: ", linear scaling ×%g", factor)
            case let .llama3(factor, _, _, context): return String(format: ", llama3 scaling ×%g from %g positions", factor, context)
            }
        }
    }

    let theta: Float
    let headDim: Int
    var scaling = Scaling.none

    /// `fᵢ` for `i < d/2`, in float32 as `transformers` computes them.
    private var inverseFrequencies: [Float] {
        let base = (0..<(headDim / 2)).map { 1 / pow(theta, Float(2 * $0) / Float(headDim)) }
        switch scaling {
        case .none: return base
        case let .linear(factor): return base.map { $0 / factor }
        case let .llama3(factor, low, high, context):
            let lowWavelength = context / low, highWavelength = context / high
            return base.map { f in
                let wavelength = 2 * Float.pi / f
                if wavelength < highWavelength { return f }
                if wavelength > lowWavelength { return f / factor }
                let smooth = (context / wavelength - low) / (high - low)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
    }

    /// The cosines and sines of one pass's positions (0 through the largest), computed once per
    /// forward or backward pass and handed to every layer with this rotary (`TransformerStack`
    /// builds one per distinct `Rotary`: ModernBERT's local and global layers differ).
    struct Table {
        let half: Int
        let cosines: [Float], sines: [Float]
    }

    /// The table for `positions`.
    func table(positions: [Int32]) -> Table {
        let half = headDim / 2, frequencies = inverseFrequencies
        let count = Int(positions.max() ?? -1) + 1
        var cosines = [Float](repeating: 0, count: count * half), sines = [Float](repeating: 0, count: count * half)
        for p in 0..<count {
            for i in 0..<half {
                let angle = Float(p) * frequencies[i]
                cosines[p * half + i] = cos(angle); sines[p * half + i] = sin(angle)
            }
        }
        return Table(half: half, cosines: cosines, sines: sines)
    }

    /// Rotates each head of `x` (`[tokens, heads · headDim]`) in place by `+angle`, or by `−angle`
    /// (`inverse`, the backward pass), reading the angles of `positions` from `table`.
    func rotate(_ x: inout Tensor, positions: [Int32], table: Table, inverse: Bool = false) {
        let half = headDim / 2, width = x.shape[1], heads = width / headDim
        precondition(table.half == half && (positions.max().map { (Int($0) + 1) * half <= table.cosines.count } ?? true),
                     "Rotary.rotate: the table does not cover these positions")
        let sign: Float = inverse ? -1 : 1
        table.cosines.withUnsafeBufferPointer { cosines in
        table.sines.withUnsafeBufferPointer { unsignedSines in
        x.scalars.withUnsafeMutableBufferPointer { xp in
            let x0 = xp.baseAddress!
            Parallel.chunks(positions.count, granularity: 16) { tokens in
                for t in tokens {
                    let c = Int(positions[t]) * half
                    for h in 0..<heads {
                        let row = x0 + t * width + h * headDim
                        for i in 0..<half {
                            let a = row[i], b = row[i + half], cosine = cosines[c + i], sine = sign * unsignedSines[c + i]
                            row[i] = a * cosine - b * sine
                            row[i + half] = b * cosine + a * sine
                        }
                    }
                }
            }
        }}}
    }
}
