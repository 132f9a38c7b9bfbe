import VerdictTensor

/// Inverted dropout: a mask of 0 and `1 / (1 - p)`, drawn from a seeded generator so that runs
/// (and resumed runs) are reproducible. `nil` masks mean "no dropout" (inference, or p = 0).
enum Dropout {
    /// The mask of `count` values: the generator's next `count` draws, drawn in parallel pieces
    /// (the same values as one draw after another).
    static func mask(count: Int, p: Float, rng: inout SplitMix64?) -> [Float]? {
        guard p > 0, let start = rng else { return nil }
        let keep = 1 / (1 - p)
        var m = [Float](repeating: 0, count: count)
        m.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            Parallel.chunks(count, granularity: 1 << 14) { range in
                var generator = start.advanced(by: range.lowerBound)
                for i in range where generator.nextUnitFloat() >= p { base[i] = keep }
            }
        }
        rng = start.advanced(by: count)
        return m
    }

    static func apply(_ x: inout Tensor, _ mask: [Float]?) {
        guard let mask else { return }
        x.scalars.withUnsafeMutableBufferPointer { xp in for i in 0..<mask.count { xp[i] *= mask[i] } }
    }
}
