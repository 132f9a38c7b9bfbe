/// Byte-pair encoding: a word starts as single scalars (with optional continuation prefix and
/// end-of-word suffix) and the lowest-ranked adjacent pair is merged until no merge applies.
public struct BPE: TokenizerModel {
    let vocab: Vocabulary
    /// (left id, right id) → (rank, merged id).
    private let merges: [UInt64: (rank: Int32, id: Int32)]
    public let unkToken: String?
    public let continuingSubwordPrefix: String?
    public let endOfWordSuffix: String?
    public let fuseUnk: Bool
    public let byteFallback: Bool
    public let ignoreMerges: Bool
    let unkId: Int?

    public init(vocab: [(String, Int)], merges: [(String, String)], unkToken: String? = nil,
                continuingSubwordPrefix: String? = nil, endOfWordSuffix: String? = nil,
                fuseUnk: Bool = false, byteFallback: Bool = false, ignoreMerges: Bool = false) throws {
        let vocabulary = Vocabulary(vocab)
        self.vocab = vocabulary
        var table: [UInt64: (Int32, Int32)] = [:]
        table.reserveCapacity(merges.count)
        let prefixLength = continuingSubwordPrefix.map { $0.unicodeScalars.count } ?? 0
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocabulary.id(a) else { throw TokenizerError.missingToken(a, role: "BPE merge #\(rank) left") }
            guard let ib = vocabulary.id(b) else { throw TokenizerError.missingToken(b, role: "BPE merge #\(rank) right") }
            // The merged token drops the right side's continuation prefix.
            var right = b
            if prefixLength > 0, let p = continuingSubwordPrefix, b.unicodeScalars.starts(with: p.unicodeScalars) {
                right = String(String.UnicodeScalarView(b.unicodeScalars.dropFirst(prefixLength)))
            }
            let merged = a + right
            guard let im = vocabulary.id(merged) else { throw TokenizerError.missingToken(merged, role: "BPE merge #\(rank) result") }
            let key = UInt64(UInt32(ia)) << 32 | UInt64(UInt32(ib))
            if table[key] == nil { table[key] = (Int32(rank), Int32(im)) }
        }
        self.merges = table
        self.unkToken = unkToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.endOfWordSuffix = endOfWordSuffix
        self.fuseUnk = fuseUnk
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        unkId = unkToken.flatMap { vocabulary.id($0) }
    }

    private struct Symbol { var id: Int32; var start: Int32; var end: Int32 }

    public func tokenize(_ word: ArraySlice<Unicode.Scalar>) -> [ModelToken] {
        if word.isEmpty { return [] }
        let n = word.count
        if ignoreMerges, let id = vocab.id(word.string) { return [ModelToken(id: id, range: 0..<n)] }
        var symbols: [Symbol] = []
        symbols.reserveCapacity(n)
        var unk: Symbol? = nil
        for (k, c) in word.enumerated() {
            var s = String(c)
            if k > 0, let p = continuingSubwordPrefix { s = p + s }
            if k == n - 1, let x = endOfWordSuffix { s += x }
            if let id = vocab.id(s) {
                if let u = unk { symbols.append(u); unk = nil }
                symbols.append(Symbol(id: Int32(id), start: Int32(k), end: Int32(k + 1)))
                continue
            }
            if byteFallback {
                let ids = s.utf8.map { vocab.id("<0x" + hex2($0) + ">") }
                if ids.allSatisfy({ $0 != nil }) {
                    if let u = unk { symbols.append(u); unk = nil }
                    for id in ids { symbols.append(Symbol(id: Int32(id!), start: Int32(k), end: Int32(k + 1))) }
                    continue
                }
            }
            if let unkId {
                if let u = unk {
                    if fuseUnk { unk = Symbol(id: u.id, start: u.start, end: Int32(k + 1)); continue }
                    symbols.append(u)
                }
                unk = Symbol(id: Int32(unkId), start: Int32(k), end: Int32(k + 1))
            }
        }
        if let u = unk { symbols.append(u) }
        mergeAll(&symbols)
        return symbols.map { ModelToken(id: Int($0.id), range: Int($0.start)..<Int($0.end)) }
    }

    /// Repeatedly merges the adjacent pair of lowest rank (leftmost on ties).
    private func mergeAll(_ symbols: inout [Symbol]) {
        while symbols.count > 1 {
            var bestRank = Int32.max, bestIndex = -1, bestId: Int32 = 0
            for i in 0..<(symbols.count - 1) {
                let key = UInt64(UInt32(symbols[i].id)) << 32 | UInt64(UInt32(symbols[i + 1].id))
                if let m = merges[key], m.rank < bestRank { bestRank = m.rank; bestIndex = i; bestId = m.id }
            }
            if bestIndex < 0 { return }
            symbols[bestIndex] = Symbol(id: bestId, start: symbols[bestIndex].start, end: symbols[bestIndex + 1].end)
            symbols.remove(at: bestIndex + 1)
        }
    }

    public func tokenToId(_ token: String) -> Int? { vocab.id(token) }
    public func idToToken(_ id: Int) -> String? { vocab.token(id) }
    public var vocabSize: Int { vocab.count }
    public var vocabulary: [String: Int] { vocab.dictionary }
}

/// Two upper-case hex digits.
func hex2(_ b: UInt8) -> String {
    let digits: [Character] = Array("0123456789ABCDEF")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

/// SentencePiece's Unigram model: the segmentation of highest total log-probability (Viterbi);
/// scalars no piece covers become the unknown piece (consecutive ones fused).
public struct Unigram: TokenizerModel {
    let vocab: Vocabulary
    let scores: [Double]
    public let unkId: Int?
    public let byteFallback: Bool
    public let fuseUnk: Bool = true
    private let trie: ScalarTrie
    private let unkScore: Double

    /// The unknown-piece penalty SentencePiece uses, below the lowest piece score.
    static let unknownPenalty = 10.0

    public init(vocab: [(String, Double)], unkId: Int?, byteFallback: Bool = false) throws {
        if let unkId, unkId < 0 || unkId >= vocab.count {
            throw TokenizerError.invalidArgument("Unigram unk_id \(unkId) is outside the vocabulary (\(vocab.count) pieces)")
        }
        self.vocab = Vocabulary(vocab.enumerated().map { ($0.element.0, $0.offset) })
        scores = vocab.map { $0.1 }
        self.unkId = unkId
        self.byteFallback = byteFallback
        var t = ScalarTrie(expectedEdges: 4 * vocab.count)  // about two edges per piece, room for twice that; grows if needed
        for (i, (piece, _)) in vocab.enumerated() { t.insert(piece.unicodeScalars, value: i) }
        trie = t
        unkScore = (scores.min() ?? 0) - Self.unknownPenalty
    }

    public func tokenize(_ word: ArraySlice<Unicode.Scalar>) -> [ModelToken] {
        let n = word.count
        if n == 0 { return [] }
        var bestScore = [Double](repeating: 0, count: n + 1)
        var bestStart = [Int](repeating: -1, count: n + 1)
        var bestId = [Int](repeating: -1, count: n + 1)
        let base = word.startIndex
        for start in 0..<n {
            let here = bestScore[start]
            var hasSingle = false
            trie.prefixes(word, from: base + start) { end, id in
                let e = end - base
                let candidate = here + scores[id]
                if bestStart[e] < 0 || candidate > bestScore[e] {
                    bestScore[e] = candidate; bestStart[e] = start; bestId[e] = id
                }
                if e == start + 1 { hasSingle = true }
            }
            if !hasSingle {
                let e = start + 1
                let candidate = here + unkScore
                if bestStart[e] < 0 || candidate > bestScore[e] {
                    bestScore[e] = candidate; bestStart[e] = start; bestId[e] = unkId ?? -1
                }
            }
        }
        // Backtrack, fusing consecutive unknown pieces.
        var pieces: [(Range<Int>, Int)] = []
        var end = n
        while end > 0 {
            let start = bestStart[end], id = bestId[end]
            if id == (unkId ?? -2), let last = pieces.last, last.1 == id {
                pieces[pieces.count - 1] = (start..<last.0.upperBound, id)
            } else {
                pieces.append((start..<end, id))
            }
            end = start
        }
        var tokens: [ModelToken] = []
        for (range, _) in pieces.reversed() {
            let text = word[(base + range.lowerBound)..<(base + range.upperBound)].string
            if let found = vocab.id(text) {
                tokens.append(ModelToken(id: found, range: range))
                continue
            }
            if byteFallback {
                let ids = text.utf8.map { vocab.id("<0x" + hex2($0) + ">") }
                if ids.allSatisfy({ $0 != nil }) {
                    for (k, b) in text.utf8.enumerated() { tokens.append(ModelToken(id: ids[k]!, range: range, value: "<0x" + hex2(b) + ">")) }
                    continue
                }
            }
            guard let unkId else { continue }
            tokens.append(ModelToken(id: unkId, range: range, value: text))
        }
        return tokens
    }

    public func tokenToId(_ token: String) -> Int? { vocab.id(token) }
    public func idToToken(_ id: Int) -> String? { vocab.token(id) }
    public var vocabSize: Int { vocab.count }
    public var vocabulary: [String: Int] { vocab.dictionary }
}
