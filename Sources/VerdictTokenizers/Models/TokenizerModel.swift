/// The third stage: turns one pre-tokenized word into vocabulary ids.
public protocol TokenizerModel: Sendable {
    /// Tokenizes one word; token ranges are scalar indices into `word`.
    func tokenize(_ word: ArraySlice<Unicode.Scalar>) -> [ModelToken]
    func tokenToId(_ token: String) -> Int?
    func idToToken(_ id: Int) -> String?
    /// Number of entries in the model's own vocabulary (without added tokens).
    var vocabSize: Int { get }
    /// The whole vocabulary, token to id.
    var vocabulary: [String: Int] { get }
}

/// One token produced by a model: its id, its range in the word, and its text when that differs
/// from the vocabulary entry (Unigram reports the original text of unknown pieces).
public struct ModelToken: Sendable, Equatable {
    public var id: Int32
    public var start: Int32
    public var end: Int32
    public var value: String?
    init(id: Int, range: Range<Int>, value: String? = nil) {
        self.id = Int32(id); self.start = Int32(range.lowerBound); self.end = Int32(range.upperBound); self.value = value
    }
}

/// A dictionary key that compares strings by their exact scalars, never by canonical equivalence
/// (Swift's `String ==` would merge the two spellings of "à", which are distinct vocabulary entries).
struct ExactKey: Hashable {
    let string: String
    init(_ string: String) { self.string = string }
    static func == (a: ExactKey, b: ExactKey) -> Bool { a.string.utf8.elementsEqual(b.string.utf8) }
    func hash(into hasher: inout Hasher) {
        var s = string
        s.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// A vocabulary: exact-scalar lookup in both directions.
struct Vocabulary: Sendable {
    private(set) var tokenToIdMap: [ExactKey: Int]
    /// Tokens by id for the dense ids (every real vocabulary); ids far beyond the vocabulary's
    /// size (a broken or hostile file: `"x": 4294967296`) go to `sparseIdToToken` instead of
    /// sizing this array by the largest id.
    private(set) var idToTokenList: [String?]
    private var sparseIdToToken: [Int: String] = [:]

    init(_ pairs: [(String, Int)]) {
        var map: [ExactKey: Int] = [:]
        map.reserveCapacity(pairs.count)
        var maxId = -1
        for (t, i) in pairs { map[ExactKey(t)] = i; maxId = max(maxId, i) }
        let denseCount = min(maxId + 1, 4 * pairs.count + 1024)
        var list = [String?](repeating: nil, count: max(0, denseCount))
        for (t, i) in pairs where i >= 0 {
            if i < list.count { list[i] = t } else { sparseIdToToken[i] = t }
        }
        tokenToIdMap = map
        idToTokenList = list
    }

    func id(_ token: String) -> Int? { tokenToIdMap[ExactKey(token)] }
    func token(_ id: Int) -> String? { id >= 0 && id < idToTokenList.count ? idToTokenList[id] : sparseIdToToken[id] }
    var count: Int { tokenToIdMap.count }
    var dictionary: [String: Int] {
        var d: [String: Int] = [:]
        for (k, v) in tokenToIdMap { d[k.string] = v }
        return d
    }
}

/// A prefix tree over Unicode scalars, for longest-match and all-prefix lookups.
///
/// Edges live in one open-addressing hash table keyed by (node, scalar), with a multiplicative
/// hash: loading a 30k-token vocabulary and the per-scalar lookups of tokenization both avoid
/// the cost of `Dictionary`'s seeded hashing.
struct ScalarTrie: Sendable {
    private static let empty = UInt64.max
    /// An edge: (node << 21 | scalar) and the node it leads to; key and target share a cache line.
    private struct Slot { var key: UInt64; var target: Int32 }
    private var slots: [Slot]
    private var shift: UInt64
    private var edges = 0
    private(set) var values: [Int32] = [-1]

    /// An empty trie with room for about `expectedEdges` edges before it grows.
    init(expectedEdges: Int = 0) {
        var bits: UInt64 = 4
        while (1 << bits) < expectedEdges * 2 { bits += 1 }
        slots = [Slot](repeating: Slot(key: Self.empty, target: 0), count: 1 << bits)
        shift = 64 - bits
    }

    @inline(__always) private static func key(_ node: Int32, _ c: Unicode.Scalar) -> UInt64 { UInt64(node) << 21 | UInt64(c.value) }

    @inline(__always) private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    mutating func insert<S: Sequence>(_ key: S, value: Int) where S.Element == Unicode.Scalar {
        var node: Int32 = 0
        for c in key {
            if let next = child(node, c) { node = next; continue }
            let next = Int32(values.count)
            values.append(-1)
            addEdge(Self.key(node, c), to: next)
            node = next
        }
        values[Int(node)] = Int32(value)
    }

    private mutating func addEdge(_ key: UInt64, to target: Int32) {
        if (edges + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var i = slot(key)
        while slots[i].key != Self.empty { i = (i + 1) & mask }
        slots[i] = Slot(key: key, target: target)
        edges += 1
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(key: Self.empty, target: 0), count: old.count * 2)
        shift -= 1
        edges = 0
        for s in old where s.key != Self.empty { addEdge(s.key, to: s.target) }
    }

    @inline(__always)
    func child(_ node: Int32, _ c: Unicode.Scalar) -> Int32? {
        let k = Self.key(node, c)
        let mask = slots.count - 1
        var i = slot(k)
        while true {
            let stored = slots[i]
            if stored.key == k { return stored.target }
            if stored.key == Self.empty { return nil }
            i = (i + 1) & mask
        }
    }

    /// The longest key that is a prefix of `s[start...]`: its end index and value.
    func longestPrefix(_ s: ArraySlice<Unicode.Scalar>, from start: Int) -> (end: Int, value: Int)? {
        var node: Int32 = 0
        var best: (Int, Int)? = nil
        var i = start
        while i < s.endIndex, let next = child(node, s[i]) {
            node = next
            i += 1
            let v = values[Int(node)]
            if v >= 0 { best = (i, Int(v)) }
        }
        return best
    }

    /// Every key that is a prefix of `s[start...]`.
    func prefixes(_ s: ArraySlice<Unicode.Scalar>, from start: Int, _ body: (Int, Int) -> Void) {
        var node: Int32 = 0
        var i = start
        while i < s.endIndex, let next = child(node, s[i]) {
            node = next
            i += 1
            let v = values[Int(node)]
            if v >= 0 { body(i, Int(v)) }
        }
    }
}
