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
    private(set) var idToTokenList: [String?]

    init(_ pairs: [(String, Int)]) {
        var map: [ExactKey: Int] = [:]
        map.reserveCapacity(pairs.count)
        var maxId = -1
        for (t, i) in pairs { map[ExactKey(t)] = i; maxId = max(maxId, i) }
        var list = [String?](repeating: nil, count: maxId + 1)
        for (t, i) in pairs where i >= 0 { list[i] = t }
        tokenToIdMap = map
        idToTokenList = list
    }

    func id(_ token: String) -> Int? { tokenToIdMap[ExactKey(token)] }
    func token(_ id: Int) -> String? { id >= 0 && id < idToTokenList.count ? idToTokenList[id] : nil }
    var count: Int { tokenToIdMap.count }
    var dictionary: [String: Int] {
        var d: [String: Int] = [:]
        for (k, v) in tokenToIdMap { d[k.string] = v }
        return d
    }
}

/// A prefix tree over Unicode scalars, for longest-match and all-prefix lookups.
struct ScalarTrie: Sendable {
    private var children: [UInt64: Int32] = [:]
    private(set) var values: [Int32] = [-1]

    mutating func insert<S: Sequence>(_ key: S, value: Int) where S.Element == Unicode.Scalar {
        var node: Int32 = 0
        for c in key {
            let k = UInt64(node) << 21 | UInt64(c.value)
            if let next = children[k] { node = next } else {
                let next = Int32(values.count)
                values.append(-1)
                children[k] = next
                node = next
            }
        }
        values[Int(node)] = Int32(value)
    }

    @inline(__always)
    func child(_ node: Int32, _ c: Unicode.Scalar) -> Int32? { children[UInt64(node) << 21 | UInt64(c.value)] }

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
