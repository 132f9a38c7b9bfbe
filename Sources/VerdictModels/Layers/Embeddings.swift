import VerdictTensor

/// Token embeddings: `LayerNorm(word[id] + position[pos] (+ tokenType[type]))`, then dropout.
struct Embeddings {
    /// Full tensor names of the tables.
    let word: String
    let position: String
    /// `nil` for models without token types (DistilBERT).
    let tokenType: String?
    /// Prefix of the LayerNorm.
    let norm: String
    let eps: Float
    let dropout: Float

    struct Cache {
        var sum: Tensor
        var norm: Ops.LayerNormCache
        var drop: [Float]?
    }

    func forward(_ batch: PackedBatch, _ p: ParameterStore, rng: inout SplitMix64?, keepCache: Bool) -> (Tensor, Cache?) {
        let wordTable = p[word], positionTable = p[position]
        let typeTable = tokenType.map { p[$0] }
        let hidden = wordTable.shape[1]
        var sum = Tensor(shape: [batch.tokenCount, hidden])
        sum.scalars.withUnsafeMutableBufferPointer { out in
            for t in 0..<batch.tokenCount {
                let o = t * hidden
                let w = Int(batch.inputIds[t]) * hidden, pos = Int(batch.positions[t]) * hidden
                for i in 0..<hidden { out[o + i] = wordTable.scalars[w + i] + positionTable.scalars[pos + i] }
                if let typeTable {
                    let ty = Int(batch.tokenTypeIds[t]) * hidden
                    for i in 0..<hidden { out[o + i] += typeTable.scalars[ty + i] }
                }
            }
        }
        var (y, normCache) = p.layerNorm(sum, norm, eps: eps)
        let drop = Dropout.mask(count: y.count, p: dropout, rng: &rng)
        Dropout.apply(&y, drop)
        return (y, keepCache ? Cache(sum: sum, norm: normCache, drop: drop) : nil)
    }

    func backward(_ dy: Tensor, cache: Cache, batch: PackedBatch, _ p: ParameterStore, grads: inout ParameterStore) {
        var dOut = dy
        Dropout.apply(&dOut, cache.drop)
        let dSum = p.layerNormBackward(dOut, input: cache.sum, cache: cache.norm, norm, grads: &grads)
        let hidden = dSum.shape[1]
        for table in [word, position] + (tokenType.map { [$0] } ?? []) {
            grads.modify(table) { g in
                g.scalars.withUnsafeMutableBufferPointer { gp in
                    for t in 0..<batch.tokenCount {
                        let row: Int32 = table == word ? batch.inputIds[t] : table == position ? batch.positions[t] : batch.tokenTypeIds[t]
                        let o = Int(row) * hidden, s = t * hidden
                        for i in 0..<hidden { gp[o + i] += dSum.scalars[s + i] }
                    }
                }
            }
        }
    }

    func shapes(vocab: Int, positions: Int, types: Int, hidden: Int) -> [(String, [Int])] {
        var out: [(String, [Int])] = [(word, [vocab, hidden]), (position, [positions, hidden])]
        if let tokenType { out.append((tokenType, [types, hidden])) }
        return out + [(norm + ".weight", [hidden]), (norm + ".bias", [hidden])]
    }
}
