/// Column slicing and element-wise products, for fused projections (`[q | k | v]`) and gated MLPs.
extension Ops {
    /// Splits `[rows, parts · n]` into `parts` tensors `[rows, n]` (consecutive column blocks).
    package static func splitColumns(_ x: Tensor, into parts: Int) -> [Tensor] {
        let width = x.shape[x.rank - 1], n = width / parts, rows = x.count / width
        precondition(n * parts == width, "splitColumns: width \(width) is not a multiple of \(parts)")
        return (0..<parts).map { part in
            Tensor(shape: Array(x.shape.dropLast()) + [n]) { out in
                x.scalars.withUnsafeBufferPointer { xp in
                    for r in 0..<rows {
                        (out.baseAddress! + r * n).update(from: xp.baseAddress! + r * width + part * n, count: n)
                    }
                }
            }
        }
    }

    /// Places tensors `[rows, nᵢ]` side by side: `[rows, Σ nᵢ]`.
    package static func concatenateColumns(_ parts: [Tensor]) -> Tensor {
        let widths = parts.map { $0.shape[$0.rank - 1] }, width = widths.reduce(0, +)
        let rows = parts[0].count / widths[0]
        return Tensor(shape: Array(parts[0].shape.dropLast()) + [width]) { out in
            var column = 0
            for (part, n) in zip(parts, widths) {
                part.scalars.withUnsafeBufferPointer { pp in
                    for r in 0..<rows { (out.baseAddress! + r * width + column).update(from: pp.baseAddress! + r * n, count: n) }
                }
                column += n
            }
        }
    }

    /// `a ⊙ b`, element-wise.
    package static func multiply(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.count == b.count, "multiply: \(a.shape) ⊙ \(b.shape)")
        var y = a
        y.scalars.withUnsafeMutableBufferPointer { yp in
            b.scalars.withUnsafeBufferPointer { bp in for i in 0..<bp.count { yp[i] *= bp[i] } }
        }
        return y
    }
}
