import VerdictTokenizers

/// A batch of sequences packed end to end, without padding: the dense layers run one matrix
/// multiply over `tokenCount` real tokens, and attention runs per sequence using `offsets`
/// (sequence `i` is tokens `offsets[i]..<offsets[i + 1]`, like FlashAttention's `cu_seqlens`).
public struct PackedBatch: Sendable {
    public var inputIds: [Int32]
    public var tokenTypeIds: [Int32]
    /// Position of each token within its sequence.
    public var positions: [Int32]
    /// `sequenceCount + 1` boundaries.
    public var offsets: [Int]
    /// Tokens with global attention (Longformer's `global_attention_mask`); `nil`: none.
    public var globalAttention: [Bool]? = nil

    /// `globalAttention`, or `false` for every token.
    var globalAttentionFlags: [Bool] { globalAttention ?? [Bool](repeating: false, count: tokenCount) }

    /// The same batch with global attention on the first token of each sequence (what
    /// `LongformerForSequenceClassification` does when given no global attention mask).
    public func withGlobalAttentionOnFirstTokens() -> PackedBatch {
        var batch = self
        var flags = globalAttentionFlags
        for s in 0..<sequenceCount where offsets[s + 1] > offsets[s] { flags[offsets[s]] = true }
        batch.globalAttention = flags
        return batch
    }

    public var tokenCount: Int { inputIds.count }
    public var sequenceCount: Int { offsets.count - 1 }
    public var lengths: [Int] { zip(offsets.dropFirst(), offsets).map { $0 - $1 } }

    /// Sequences `range` of this batch, as a batch of their own.
    public func sequences(_ range: Range<Int>) -> PackedBatch {
        precondition(range.lowerBound >= 0 && range.upperBound <= sequenceCount, "PackedBatch: sequences \(range) of \(sequenceCount)")
        let tokens = offsets[range.lowerBound]..<offsets[range.upperBound]
        var part = self
        part.inputIds = Array(inputIds[tokens]); part.tokenTypeIds = Array(tokenTypeIds[tokens]); part.positions = Array(positions[tokens])
        part.offsets = offsets[range.lowerBound...range.upperBound].map { $0 - tokens.lowerBound }
        part.globalAttention = globalAttention.map { Array($0[tokens]) }
        return part
    }

    /// Consecutive ranges of sequences that cover the batch, each of at most `maxTokens` tokens
    /// unless it is a single sequence.
    public func partitioned(maxTokens: Int) -> [Range<Int>] {
        var parts: [Range<Int>] = [], start = 0
        while start < sequenceCount {
            var end = start + 1
            while end < sequenceCount && offsets[end + 1] - offsets[start] <= maxTokens { end += 1 }
            parts.append(start..<end)
            start = end
        }
        return parts
    }

    /// Packs token id sequences; padding (attention mask 0) is dropped. `tokenTypes` and
    /// `attentionMasks`, when given, have one value per token of each sequence (a mismatch is a
    /// programming error). Ids and types outside the model's tables, however large, are kept
    /// (saturated to `Int32`) so that the model rejects them with `ModelInputError`.
    public init(sequences: [[Int]], tokenTypes: [[Int]]? = nil, attentionMasks: [[Int]]? = nil) {
        precondition(tokenTypes.map { $0.map(\.count) == sequences.map(\.count) } ?? true, "PackedBatch: tokenTypes must match the sequences' shape")
        precondition(attentionMasks.map { $0.map(\.count) == sequences.map(\.count) } ?? true, "PackedBatch: attentionMasks must match the sequences' shape")
        inputIds = []; tokenTypeIds = []; positions = []; offsets = [0]
        for (i, ids) in sequences.enumerated() {
            var p: Int32 = 0
            for (j, id) in ids.enumerated() where attentionMasks?[i][j] ?? 1 != 0 {
                inputIds.append(Int32(clamping: id))
                tokenTypeIds.append(Int32(clamping: tokenTypes?[i][j] ?? 0))
                positions.append(p)
                p += 1
            }
            offsets.append(inputIds.count)
        }
    }

    /// Packs tokenizer encodings (their padding, if any, is dropped). Pass the tokenizer's
    /// `returnsTokenTypeIds` as `tokenTypes` to give the model what `transformers` gives it.
    public init(encodings: [Encoding], tokenTypes: Bool = true) {
        self.init(sequences: encodings.map(\.ids), tokenTypes: tokenTypes ? encodings.map(\.typeIds) : nil,
                  attentionMasks: encodings.map(\.attentionMask))
    }
}
