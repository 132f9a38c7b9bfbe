/// A token added on top of the model's vocabulary (special tokens, user tokens), matched in the
/// text before the model runs.
public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int
    public var special: Bool
    public var singleWord: Bool
    public var lstrip: Bool
    public var rstrip: Bool
    /// Matched against the normalized text (`true`) or the original text (`false`).
    public var normalized: Bool

    public init(content: String, id: Int, special: Bool = false, singleWord: Bool = false,
                lstrip: Bool = false, rstrip: Bool = false, normalized: Bool? = nil) {
        self.content = content; self.id = id; self.special = special; self.singleWord = singleWord
        self.lstrip = lstrip; self.rstrip = rstrip; self.normalized = normalized ?? !special
    }
}

/// The added tokens and the two matchers `tokenizers` uses: one over the original text, one over
/// the normalized text.
struct AddedVocabulary: Sendable {
    let tokens: [AddedToken]
    private let byContent: [ExactKey: Int]
    private let byId: [Int: Int]
    private let rawMatcher: Matcher
    private let normalizedMatcher: Matcher

    /// Leftmost-longest matching of literal patterns (scalar sequences).
    struct Matcher: Sendable {
        /// First scalar → (pattern, token index), longest pattern first.
        var patterns: [UInt32: [([Unicode.Scalar], Int)]] = [:]
        var isEmpty: Bool { patterns.isEmpty }

        func matches(in s: [Unicode.Scalar]) -> [(Range<Int>, Int)] {
            var out: [(Range<Int>, Int)] = []
            var i = 0
            while i < s.count {
                if let candidates = patterns[s[i].value] {
                    var found = false
                    for (p, t) in candidates where i + p.count <= s.count && s[i..<(i + p.count)].elementsEqual(p) {
                        out.append((i..<(i + p.count), t)); i += p.count; found = true
                        break
                    }
                    if found { continue }
                }
                i += 1
            }
            return out
        }
    }

    init(tokens: [AddedToken], normalizer: (any Normalizer)?) {
        self.tokens = tokens
        var byContent: [ExactKey: Int] = [:], byId: [Int: Int] = [:]
        var raw = Matcher(), norm = Matcher()
        for (i, t) in tokens.enumerated() {
            byContent[ExactKey(t.content)] = i
            byId[t.id] = i
            var pattern = Array(t.content.unicodeScalars)
            if t.normalized, let normalizer {
                var s = NormalizedString(t.content)
                normalizer.normalize(&s)
                pattern = s.scalars
            }
            guard let first = pattern.first else { continue }
            if t.normalized { norm.patterns[first.value, default: []].append((pattern, i)) }
            else { raw.patterns[first.value, default: []].append((pattern, i)) }
        }
        for k in raw.patterns.keys { raw.patterns[k]!.sort { $0.0.count > $1.0.count } }
        for k in norm.patterns.keys { norm.patterns[k]!.sort { $0.0.count > $1.0.count } }
        self.byContent = byContent
        self.byId = byId
        rawMatcher = raw
        normalizedMatcher = norm
    }

    func id(of content: String) -> Int? { byContent[ExactKey(content)].map { tokens[$0].id } }
    func token(for id: Int) -> AddedToken? { byId[id].map { tokens[$0] } }
    var isEmpty: Bool { tokens.isEmpty }

    /// A piece of text: either a found added token or text for the rest of the pipeline.
    struct Piece { var text: NormalizedString; var addedToken: Int? }

    /// Splits `text` on added tokens, normalizing the parts in between.
    func extractAndNormalize(_ text: String, normalizer: (any Normalizer)?) -> [Piece] {
        let original = NormalizedString(text)
        var pieces: [Piece] = []
        for p in split(original, matcher: rawMatcher) {
            if p.addedToken != nil { pieces.append(p); continue }
            var t = p.text
            normalizer?.normalize(&t)
            pieces.append(contentsOf: split(t, matcher: normalizedMatcher))
        }
        return pieces
    }

    private func split(_ s: NormalizedString, matcher: Matcher) -> [Piece] {
        if matcher.isEmpty || s.isEmpty { return [Piece(text: s, addedToken: nil)] }
        let scalars = s.scalars
        var result: [Piece] = []
        var startOffset = 0
        for (m, index) in matcher.matches(in: scalars) {
            var start = m.lowerBound, stop = m.upperBound
            let token = tokens[index]
            if token.singleWord {
                let startOK = start == 0 || !UnicodeClasses.isWordChar(scalars[start - 1])
                let stopOK = stop == scalars.count || !UnicodeClasses.isWordChar(scalars[stop])
                if !startOK || !stopOK { continue }
            }
            if token.lstrip {
                var k = start
                while k > 0, UnicodeClasses.isWhitespace(scalars[k - 1]) { k -= 1 }
                start = max(k, startOffset)
            }
            if token.rstrip {
                while stop < scalars.count, UnicodeClasses.isWhitespace(scalars[stop]) { stop += 1 }
            }
            if startOffset < start { result.append(Piece(text: s.slice(startOffset..<start), addedToken: nil)) }
            result.append(Piece(text: s.slice(start..<stop), addedToken: index))
            startOffset = stop
        }
        if startOffset != scalars.count { result.append(Piece(text: s.slice(startOffset..<scalars.count), addedToken: nil)) }
        return result
    }
}
