import Foundation
import VerdictTensor

/// Pooling of packed hidden states `[tokens, hidden]` into one vector per sequence.
public enum Pooling {
    /// The first token (`[CLS]`) of each sequence.
    public static func first(_ hidden: Tensor, offsets: [Int]) -> Tensor {
        rows(hidden, at: firstRows(offsets))
    }

    /// The row of each sequence's first token (−1 for an empty sequence).
    static func firstRows(_ offsets: [Int]) -> [Int] {
        (0..<(offsets.count - 1)).map { offsets[$0 + 1] > offsets[$0] ? offsets[$0] : -1 }
    }

    /// Row `indices[s]` of the packed hidden states for each sequence `s` (zeros for an index of −1).
    public static func rows(_ hidden: Tensor, at indices: [Int]) -> Tensor {
        let h = hidden.shape[1]
        var out = Tensor(shape: [indices.count, h])
        for (s, t) in indices.enumerated() where t >= 0 && t < hidden.shape[0] {
            for i in 0..<h { out.scalars[s * h + i] = hidden.scalars[t * h + i] }
        }
        return out
    }

    static func rowsBackward(_ dPooled: Tensor, at indices: [Int], tokens: Int) -> Tensor {
        var dx = Tensor(shape: [tokens, dPooled.shape[1]])
        addRows(dPooled, at: indices, into: &dx)
        return dx
    }

    /// `target[indices[s]] += values[s]` for each row `s` of `values` (an index outside `target`,
    /// such as −1, adds nothing): the backward of `rows(_:at:)`.
    static func addRows(_ values: Tensor, at indices: [Int], into target: inout Tensor) {
        let h = values.shape[1], tokens = target.shape[0]
        values.scalars.withUnsafeBufferPointer { v in
            target.scalars.withUnsafeMutableBufferPointer { t in
                guard let from = v.baseAddress, let to = t.baseAddress else { return }
                for (s, row) in indices.enumerated() where row >= 0 && row < tokens {
                    for i in 0..<h { to[row * h + i] += from[s * h + i] }
                }
            }
        }
    }

    /// Mean of each sequence's tokens (padding never exists in a packed batch).
    public static func mean(_ hidden: Tensor, offsets: [Int]) -> Tensor {
        let h = hidden.shape[1]
        var out = Tensor(shape: [offsets.count - 1, h])
        for s in 0..<(offsets.count - 1) {
            let n = offsets[s + 1] - offsets[s]
            guard n > 0 else { continue }
            var acc = [Double](repeating: 0, count: h)
            for t in offsets[s]..<offsets[s + 1] { for i in 0..<h { acc[i] += Double(hidden.scalars[t * h + i]) } }
            for i in 0..<h { out.scalars[s * h + i] = Float(acc[i] / Double(n)) }
        }
        return out
    }

    static func meanBackward(_ dPooled: Tensor, offsets: [Int], tokens: Int) -> Tensor {
        let h = dPooled.shape[1]
        var dx = Tensor(shape: [tokens, h])
        for s in 0..<(offsets.count - 1) {
            let n = offsets[s + 1] - offsets[s]
            for t in offsets[s]..<offsets[s + 1] { for i in 0..<h { dx.scalars[t * h + i] = dPooled.scalars[s * h + i] / Float(n) } }
        }
        return dx
    }

    /// Divides each row by its L2 norm (`torch.nn.functional.normalize`, eps 1e-12).
    public static func l2Normalized(_ x: Tensor) -> Tensor {
        let h = x.shape[1]
        var y = x
        for r in 0..<(x.count / h) {
            var s = 0.0
            for i in 0..<h { s += Double(x.scalars[r * h + i]) * Double(x.scalars[r * h + i]) }
            let norm = Float(max(s.squareRoot(), 1e-12))
            for i in 0..<h { y.scalars[r * h + i] /= norm }
        }
        return y
    }

    /// Splits packed rows back into per-sequence padded form `[sequences, maxLength, hidden]` (zeros as padding).
    public static func padded(_ hidden: Tensor, offsets: [Int], length: Int? = nil) -> Tensor {
        let h = hidden.shape[1], n = offsets.count - 1
        let maxLength = length ?? zip(offsets.dropFirst(), offsets).map { $0 - $1 }.max() ?? 0
        var out = Tensor(shape: [n, maxLength, h])
        for s in 0..<n {
            for (j, t) in (offsets[s]..<offsets[s + 1]).prefix(maxLength).enumerated() {
                for i in 0..<h { out.scalars[(s * maxLength + j) * h + i] = hidden.scalars[t * h + i] }
            }
        }
        return out
    }
}
