import VerdictTensor

/// Inverted dropout: a mask of 0 and `1 / (1 - p)`, drawn from a seeded generator so that runs
/// (and resumed runs) are reproducible. `nil` masks mean "no dropout" (inference, or p = 0).
enum Dropout {
    /// The mask of `count` values: the generator's next `count` draws, drawn in parallel pieces
    /// by `Kernels.dropoutMask` (the same values as one draw after another).
    static func mask(count: Int, p: Float, rng: inout SplitMix64?) -> [Float]? {
        guard p > 0, let start = rng else { return nil }
        let keep = 1 / (1 - p)
        let m = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            if let base = out.baseAddress {
                Parallel.chunks(count, granularity: 1 << 14) { range in
                    Kernels.dropoutMask(state: start.advanced(by: range.lowerBound).state, count: range.count, p: p, keep: keep, into: base + range.lowerBound)
                }
            }
            initialized = count
        }
        rng = start.advanced(by: count)
        return m
    }

    static func apply(_ x: inout Tensor, _ mask: [Float]?) {
        guard let mask else { return }
        x.scalars.withUnsafeMutableBufferPointer { xp in
            mask.withUnsafeBufferPointer { mp in
                guard let x0 = xp.baseAddress, let m0 = mp.baseAddress else { return }
                Parallel.chunks(min(mask.count, xp.count), granularity: 1 << 14) { range in
                    for i in range { x0[i] *= m0[i] }
                }
            }
        }
    }
}
