import VerdictTensor

/// Token embeddings: `LayerNorm(scale · word[id] (+ position[pos]) (+ tokenType[type]))`, then
/// dropout, then an optional projection to the hidden width (ELECTRA's `embeddings_project`, ALBERT's
/// `embedding_hidden_mapping_in`), or a projection without bias before the norm (DeBERTa's
/// `embed_proj`). Decoders have no norm (GPT-2, LLaMA); mBART scales the word embeddings by
/// `√d_model`.
struct Embeddings {
    /// How absolute position ids are numbered.
    enum PositionIds {
        /// `0, 1, 2, …` in each sequence (BERT, GPT-2).
        case fromZero
        /// `k, k + 1, k + 2, …`: rows below `k` are never used (mBART: `k = 2`).
        case fromOffset(Int32)
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
    /// Prefix of the LayerNorm; `nil` when there is none (decoders).
    let norm: String?
    let eps: Float
    let dropout: Float
    /// Prefix of a `Linear` from the embedding width to the hidden width.
    var projection: String? = nil
    /// Where `projection` sits: after the norm and dropout, with a bias (ELECTRA, ALBERT), or
    /// before the norm, without one (DeBERTa).
    enum ProjectionPlacement { case afterNorm, beforeNorm }
    var projectionPlacement = ProjectionPlacement.afterNorm
    /// Multiplies the word embeddings (mBART's `embed_scale` with `scale_embedding`).
    var wordScale: Float = 1

    struct Cache {
        var sum: Tensor
        /// The norm's input when the projection precedes it.
        var projected: Tensor?
        var norm: Ops.NormCache?
        var drop: [Float]?
        var normalized: Tensor?
    }

    /// Position id of every token of the batch.
    func positions(_ batch: PackedBatch) -> [Int32] {
        if case .fromOffset(let offset) = positionIds { return batch.positions.map { $0 + offset } }
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
        switch positionIds {
        case .fromZero: return length
        case .fromOffset(let offset): return length + Int(offset)
        case .afterPadding(let padding): return length + Int(padding) + 1
        }
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
                let scale = name == word ? wordScale : 1
                p[name].scalars.withUnsafeBufferPointer { table in
                    for t in 0..<batch.tokenCount {
                        let o = t * width, r = Int(rows[t]) * width
                        if scale == 1 {
                            for i in 0..<width { out[o + i] += table[r + i] }
                        } else {
                            for i in 0..<width { out[o + i] += table[r + i] * scale }
                        }
                    }
                }
            }
        }
        let before = projectionPlacement == .beforeNorm ? projection : nil, after = before == nil ? projection : nil
        let projected = before.map { p.linear(sum, $0) }
        var y = projected ?? sum, normCache: Ops.NormCache? = nil
        if let norm { (y, normCache) = p.layerNorm(y, norm, eps: eps) }
        let drop = Dropout.mask(count: y.count, p: dropout, rng: &rng)
        Dropout.apply(&y, drop)
        let normalized = after == nil ? nil : y
        if let after { y = p.linear(y, after) }
        return (y, keepCache ? Cache(sum: sum, projected: projected, norm: normCache, drop: drop, normalized: normalized) : nil)
    }

    func backward(_ dy: Tensor, cache: Cache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        var dOut = dy
        if let projection, let normalized = cache.normalized {
            dOut = p.linearBackward(dy, input: normalized, projection, grads: &grads)
        }
        Dropout.apply(&dOut, cache.drop)
        var dSum = dOut
        if let norm, let normCache = cache.norm {
            dSum = p.layerNormBackward(dOut, input: cache.projected ?? cache.sum, cache: normCache, norm, grads: &grads)
        }
        if let projection, cache.projected != nil {
            dSum = p.linearBackward(dSum, input: cache.sum, projection, grads: &grads)
        }
        let width = dSum.shape[1]
        for (name, rows) in lookups(batch) {
            let scale = name == word ? wordScale : 1
            grads.modify(name) { g in
                g.scalars.withUnsafeMutableBufferPointer { gp in
                    for t in 0..<batch.tokenCount {
                        let o = Int(rows[t]) * width, s = t * width
                        for i in 0..<width { gp[o + i] += dSum.scalars[s + i] * scale }
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
        if let norm {
            out.append((norm + ".weight", [normWidth]))
            if normBias { out.append((norm + ".bias", [normWidth])) }
        }
        if let projection {
            out.append((projection + ".weight", [hidden, width]))
            if projectionPlacement == .afterNorm { out.append((projection + ".bias", [hidden])) }
        }
        return out
    }
}
