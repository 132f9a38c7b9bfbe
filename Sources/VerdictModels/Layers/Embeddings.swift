import VerdictTensor

/// Token embeddings: `LayerNorm(word[id] (+ position[pos]) (+ tokenType[type]))`, then dropout,
/// then an optional projection to the hidden width (ELECTRA's `embeddings_project`, ALBERT's
/// `embedding_hidden_mapping_in`), or a projection without bias before the norm (DeBERTa's
/// `embed_proj`).
struct Embeddings {
    /// How absolute position ids are numbered.
    enum PositionIds {
        /// `0, 1, 2, …` in each sequence (BERT).
        case fromZero
        /// fairseq's numbering (RoBERTa, MPNet, Longformer): tokens other than `padding` count up
        /// from `padding + 1`; a padding token gets `padding` itself.
        case afterPadding(Int32)
    }

    /// Full tensor names of the tables.
    let word: String
    /// `nil` when positions enter through attention instead (rotary, relative).
    var position: String?
    var positionIds = PositionIds.fromZero
    /// `nil` for models without token types (DistilBERT).
    var tokenType: String?
    /// Prefix of the LayerNorm.
    let norm: String
    let eps: Float
    let dropout: Float
    /// Prefix of a `Linear` from the embedding width to the hidden width.
    var projection: String? = nil
    /// Where `projection` sits: after the norm and dropout, with a bias (ELECTRA, ALBERT), or
    /// before the norm, without one (DeBERTa).
    enum ProjectionPlacement { case afterNorm, beforeNorm }
    var projectionPlacement = ProjectionPlacement.afterNorm

    struct Cache {
        var sum: Tensor
        /// The norm's input when the projection precedes it.
        var projected: Tensor?
        var norm: Ops.LayerNormCache
        var drop: [Float]?
        var normalized: Tensor?
    }

    /// Position id of every token of the batch.
    func positions(_ batch: PackedBatch) -> [Int32] {
        guard case .afterPadding(let padding) = positionIds else { return batch.positions }
        var out = [Int32](repeating: padding, count: batch.tokenCount)
        for s in 0..<batch.sequenceCount {
            var count: Int32 = 0
            for t in batch.offsets[s]..<batch.offsets[s + 1] where batch.inputIds[t] != padding {
                count += 1
                out[t] = padding + count
            }
        }
        return out
    }

    /// The largest position id a sequence of `length` tokens uses, plus one.
    func positionsNeeded(length: Int) -> Int {
        guard case .afterPadding(let padding) = positionIds else { return length }
        return length + Int(padding) + 1
    }

    /// (table name, row of each token) for every table that is looked up.
    private func lookups(_ batch: PackedBatch) -> [(String, [Int32])] {
        var out = [(word, batch.inputIds)]
        if let position { out.append((position, positions(batch))) }
        if let tokenType { out.append((tokenType, batch.tokenTypeIds)) }
        return out
    }

    func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, Cache?) {
        let width = p[word].shape[1]
        var sum = Tensor(shape: [batch.tokenCount, width])
        sum.scalars.withUnsafeMutableBufferPointer { out in
            for (name, rows) in lookups(batch) {
                p[name].scalars.withUnsafeBufferPointer { table in
                    for t in 0..<batch.tokenCount {
                        let o = t * width, r = Int(rows[t]) * width
                        for i in 0..<width { out[o + i] += table[r + i] }
                    }
                }
            }
        }
        let before = projectionPlacement == .beforeNorm ? projection : nil, after = before == nil ? projection : nil
        let projected = before.map { p.linear(sum, $0) }
        var (y, normCache) = p.layerNorm(projected ?? sum, norm, eps: eps)
        let drop = Dropout.mask(count: y.count, p: dropout, rng: &rng)
        Dropout.apply(&y, drop)
        let normalized = after == nil ? nil : y
        if let after { y = p.linear(y, after) }
        return (y, keepCache ? Cache(sum: sum, projected: projected, norm: normCache, drop: drop, normalized: normalized) : nil)
    }

    func backward(_ dy: Tensor, cache: Cache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        var dOut = dy
        if let projection, let normalized = cache.normalized {
            dOut = p.linearBackward(dy, input: normalized, projection, grads: &grads)!
        }
        Dropout.apply(&dOut, cache.drop)
        var dSum = p.layerNormBackward(dOut, input: cache.projected ?? cache.sum, cache: cache.norm, norm, grads: &grads)
        if let projection, cache.projected != nil {
            dSum = p.linearBackward(dSum, input: cache.sum, projection, grads: &grads)!
        }
        let width = dSum.shape[1]
        for (name, rows) in lookups(batch) {
            grads.modify(name) { g in
                g.scalars.withUnsafeMutableBufferPointer { gp in
                    for t in 0..<batch.tokenCount {
                        let o = Int(rows[t]) * width, s = t * width
                        for i in 0..<width { gp[o + i] += dSum.scalars[s + i] }
                    }
                }
            }
        }
    }

    /// (name, shape) of every parameter: tables `width` wide, projected to `hidden`.
    func shapes(vocab: Int, positions: Int, types: Int, width: Int, hidden: Int, normBias: Bool = true) -> [(String, [Int])] {
        var out: [(String, [Int])] = [(word, [vocab, width])]
        if let position { out.append((position, [positions, width])) }
        if let tokenType { out.append((tokenType, [types, width])) }
        let normWidth = projection != nil && projectionPlacement == .beforeNorm ? hidden : width
        out.append((norm + ".weight", [normWidth]))
        if normBias { out.append((norm + ".bias", [normWidth])) }
        if let projection {
            out.append((projection + ".weight", [hidden, width]))
            if projectionPlacement == .afterNorm { out.append((projection + ".bias", [hidden])) }
        }
        return out
    }
}
