/// BERT's WordPiece: greedy longest-match-first over the word, continuation pieces carrying
/// `continuingSubwordPrefix`; a word with any unmatched part, or longer than
/// `maxInputCharsPerWord` scalars, becomes a single unknown token.
public struct WordPiece: TokenizerModel {
    let vocab: Vocabulary
    public let unkToken: String
    public let continuingSubwordPrefix: String
    public let maxInputCharsPerWord: Int
    let unkId: Int
    private let initialTrie: ScalarTrie
    private let continuationTrie: ScalarTrie

    public init(vocab: [(String, Int)], unkToken: String = "[UNK]", continuingSubwordPrefix: String = "##", maxInputCharsPerWord: Int = 100) throws {
        self.vocab = Vocabulary(vocab)
        self.unkToken = unkToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxInputCharsPerWord = maxInputCharsPerWord
        guard let unk = self.vocab.id(unkToken) else { throw TokenizerError.missingToken(unkToken, role: "WordPiece unknown") }
        unkId = unk
        // About two edges per token (bert-base-uncased: 64,582 for 30,522); room for twice that keeps
        // probes short. The table grows if needed.
        var initial = ScalarTrie(expectedEdges: 4 * vocab.count), continuation = ScalarTrie(expectedEdges: vocab.count)
        let prefix = Array(continuingSubwordPrefix.unicodeScalars)
        for (token, id) in vocab {
            let scalars = Array(token.unicodeScalars)
            initial.insert(scalars, value: id)
            if !prefix.isEmpty, scalars.count > prefix.count, scalars.starts(with: prefix) {
                continuation.insert(scalars[prefix.count...], value: id)
            }
        }
        if prefix.isEmpty { continuation = initial }
        initialTrie = initial
        continuationTrie = continuation
    }

    public func tokenize(_ word: ArraySlice<Unicode.Scalar>) -> [ModelToken] {
        let n = word.count
        if n == 0 { return [] }
        if n > maxInputCharsPerWord { return [ModelToken(id: unkId, range: 0..<n)] }
        var tokens: [ModelToken] = []
        var start = word.startIndex
        while start < word.endIndex {
            let trie = start == word.startIndex ? initialTrie : continuationTrie
            guard let match = trie.longestPrefix(word, from: start) else {
                return [ModelToken(id: unkId, range: 0..<n)]
            }
            tokens.append(ModelToken(id: match.value, range: (start - word.startIndex)..<(match.end - word.startIndex)))
            start = match.end
        }
        return tokens
    }

    public func tokenToId(_ token: String) -> Int? { vocab.id(token) }
    public func idToToken(_ id: Int) -> String? { vocab.token(id) }
    public var vocabSize: Int { vocab.count }
    public var vocabulary: [String: Int] { vocab.dictionary }
}

/// A plain word → id lookup; unknown words map to `unkToken`.
public struct WordLevel: TokenizerModel {
    let vocab: Vocabulary
    public let unkToken: String
    let unkId: Int?

    public init(vocab: [(String, Int)], unkToken: String) {
        self.vocab = Vocabulary(vocab)
        self.unkToken = unkToken
        unkId = self.vocab.id(unkToken)
    }

    public func tokenize(_ word: ArraySlice<Unicode.Scalar>) -> [ModelToken] {
        if word.isEmpty { return [] }
        if let id = vocab.id(word.string) { return [ModelToken(id: id, range: 0..<word.count)] }
        if let unkId { return [ModelToken(id: unkId, range: 0..<word.count)] }
        return []
    }

    public func tokenToId(_ token: String) -> Int? { vocab.id(token) }
    public func idToToken(_ id: Int) -> String? { vocab.token(id) }
    public var vocabSize: Int { vocab.count }
    public var vocabulary: [String: Int] { vocab.dictionary }
}
