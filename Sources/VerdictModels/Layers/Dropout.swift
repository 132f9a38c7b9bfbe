import VerdictTensor

/// Inverted dropout: a mask of 0 and `1 / (1 - p)`, drawn from a seeded generator so that runs
/// (and resumed runs) are reproducible. `nil` masks mean "no dropout" (inference, or p = 0).
enum Dropout {
    static func mask(count: Int, p: Float, rng: inout SplitMix64?) -> [Float]? {
        guard p > 0, rng != nil else { return nil }
        let keep = 1 / (1 - p)
        var m = [Float](repeating: 0, count: count)
        for i in 0..<count where rng!.nextUnitFloat() >= p { m[i] = keep }
        return m
    }

    static func apply(_ x: inout Tensor, _ mask: [Float]?) {
        guard let mask else { return }
        x.scalars.withUnsafeMutableBufferPointer { xp in for i in 0..<mask.count { xp[i] *= mask[i] } }
    }
}
