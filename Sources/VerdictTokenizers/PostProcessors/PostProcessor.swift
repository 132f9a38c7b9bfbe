/// The fourth stage: adds special tokens (`[CLS]`, `[SEP]`, `<s>`…) and sets type ids.
public protocol PostProcessor: Sendable {
    /// How many special tokens `process` adds for a single text or a pair.
    func addedTokens(isPair: Bool) -> Int
    /// Processes the encodings of one text (and its pair), returning them with special tokens
    /// as separate pieces to be merged in order.
    func processEncodings(_ encodings: [Encoding], addSpecialTokens: Bool) -> [Encoding]
}

extension PostProcessor {
    /// Combines the encodings of a text and its optional pair into one.
    func process(_ a: Encoding, _ b: Encoding?, addSpecialTokens: Bool) -> Encoding {
        var encodings = b.map { [a, $0] } ?? [a]
        for i in encodings.indices {
            encodings[i].setSequenceId(i)
            for k in encodings[i].overflowing.indices { encodings[i].overflowing[k].setSequenceId(i) }
            encodings[i].setTypeIds(i)
        }
        return mergeAll(processEncodings(encodings, addSpecialTokens: addSpecialTokens))
    }
}

func mergeAll(_ encodings: [Encoding]) -> Encoding {
    guard var result = encodings.first else { return Encoding() }
    for e in encodings.dropFirst() { result.merge(with: e) }
    return result
}

/// `[CLS] A [SEP]` / `[CLS] A [SEP] B [SEP]` with type ids 0 and 1.
public struct BertProcessing: PostProcessor {
    public var cls: (token: String, id: Int)
    public var sep: (token: String, id: Int)
    public init(cls: (String, Int), sep: (String, Int)) { self.cls = cls; self.sep = sep }

    public func addedTokens(isPair: Bool) -> Int { isPair ? 3 : 2 }

    public func processEncodings(_ encodings: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        guard addSpecialTokens else { return encodings }
        return encodings.enumerated().map { i, e in
            func wrap(_ e: Encoding) -> Encoding {
                var parts: [Encoding] = []
                if i == 0 { parts.append(.special(ids: [cls.id], tokens: [cls.token], typeId: 0)) }
                var body = e
                body.overflowing = []
                parts.append(body)
                parts.append(.special(ids: [sep.id], tokens: [sep.token], typeId: i == 0 ? 0 : 1))
                return parts.dropFirst().reduce(into: parts[0]) { $0.appendTokens($1) }
            }
            var out = wrap(e)
            out.overflowing = e.overflowing.map(wrap)
            return out
        }
    }
}

/// `<s> A </s>` / `<s> A </s></s> B </s>`, with optional offset trimming of byte-level spaces.
public struct RobertaProcessing: PostProcessor {
    public var cls: (token: String, id: Int)
    public var sep: (token: String, id: Int)
    public var trimOffsets: Bool
    public var addPrefixSpace: Bool
    public init(cls: (String, Int), sep: (String, Int), trimOffsets: Bool = true, addPrefixSpace: Bool = true) {
        self.cls = cls; self.sep = sep; self.trimOffsets = trimOffsets; self.addPrefixSpace = addPrefixSpace
    }

    public func addedTokens(isPair: Bool) -> Int { isPair ? 4 : 2 }

    public func processEncodings(_ encodings: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        var encodings = encodings
        if trimOffsets {
            for i in encodings.indices {
                ByteLevelProcessing.trim(&encodings[i], addPrefixSpace: addPrefixSpace)
                for k in encodings[i].overflowing.indices { ByteLevelProcessing.trim(&encodings[i].overflowing[k], addPrefixSpace: addPrefixSpace) }
            }
        }
        guard addSpecialTokens else { return encodings }
        return encodings.enumerated().map { i, e in
            func wrap(_ e: Encoding) -> Encoding {
                var body = e
                body.overflowing = []
                body.setTypeIds(0)  // RoBERTa has a single segment type.
                let first: Encoding = i == 0
                    ? .special(ids: [cls.id], tokens: [cls.token], typeId: 0)
                    : .special(ids: [sep.id], tokens: [sep.token], typeId: 0)
                var out = first
                out.appendTokens(body)
                out.appendTokens(.special(ids: [sep.id], tokens: [sep.token], typeId: 0))
                return out
            }
            var out = wrap(e)
            out.overflowing = e.overflowing.map(wrap)
            return out
        }
    }
}

/// The byte-level post-processor: only trims offsets so they exclude the `Ġ` spaces.
public struct ByteLevelProcessing: PostProcessor {
    public var trimOffsets: Bool
    public var addPrefixSpace: Bool
    public init(trimOffsets: Bool = true, addPrefixSpace: Bool = true) { self.trimOffsets = trimOffsets; self.addPrefixSpace = addPrefixSpace }

    public func addedTokens(isPair: Bool) -> Int { 0 }

    public func processEncodings(_ encodings: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        guard trimOffsets else { return encodings }
        return encodings.map { e in
            var e = e
            Self.trim(&e, addPrefixSpace: addPrefixSpace)
            for k in e.overflowing.indices { Self.trim(&e.overflowing[k], addPrefixSpace: addPrefixSpace) }
            return e
        }
    }

    static func trim(_ e: inout Encoding, addPrefixSpace: Bool) {
        let space = ByteLevelAlphabet.scalar(for: 0x20)
        for i in e.tokens.indices {
            let scalars = e.tokens[i].unicodeScalars
            var leading = 0
            for c in scalars { if c == space || UnicodeClasses.isWhitespace(c) { leading += 1 } else { break } }
            var trailing = 0
            for c in scalars.reversed() { if c == space || UnicodeClasses.isWhitespace(c) { trailing += 1 } else { break } }
            guard leading > 0 || trailing > 0 else { continue }
            var o = e.offsets[i]
            if leading > 0 {
                let isFirst = i == 0 || o.start == 0
                if isFirst && addPrefixSpace && leading == 1 { leading = 0 }
                o.start = min(o.start + leading, o.end)
            }
            if trailing > 0, o.end >= trailing { o.end = max(o.end - trailing, o.start) }
            e.offsets[i] = o
        }
    }
}

/// A template such as `[CLS] $A [SEP] $B:1 [SEP]:1`, with special tokens that may map to several ids.
public struct TemplateProcessing: PostProcessor {
    /// One item of a template.
    public enum Piece: Sendable, Equatable {
        case sequence(isPair: Bool, typeId: Int)
        case special(id: String, typeId: Int)
    }
    /// A special token of the template and the ids/tokens it expands to.
    public struct SpecialToken: Sendable, Equatable {
        public var id: String
        public var ids: [Int]
        public var tokens: [String]
        public init(id: String, ids: [Int], tokens: [String]) { self.id = id; self.ids = ids; self.tokens = tokens }
    }
    public var single: [Piece]
    public var pair: [Piece]
    public var specialTokens: [String: SpecialToken]

    public init(single: [Piece], pair: [Piece], specialTokens: [String: SpecialToken]) {
        self.single = single; self.pair = pair; self.specialTokens = specialTokens
    }

    public func addedTokens(isPair: Bool) -> Int {
        (isPair ? pair : single).reduce(0) { n, p in
            if case .special(let id, _) = p { return n + (specialTokens[id]?.ids.count ?? 0) }
            return n
        }
    }

    public func processEncodings(_ encodings: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        var encodings = encodings
        let template = encodings.count == 2 ? pair : single
        var out: [Encoding] = []
        for piece in template {
            switch piece {
            case let .sequence(isPair, typeId):
                let i = isPair ? 1 : 0
                guard i < encodings.count else { continue }
                encodings[i].setTypeIds(typeId)
                encodings[i].setSequenceId(i)
                out.append(encodings[i])
            case let .special(id, typeId):
                guard addSpecialTokens, let tok = specialTokens[id] else { continue }
                out.append(.special(ids: tok.ids, tokens: tok.tokens, typeId: typeId))
            }
        }
        return out
    }
}

/// Applies several post-processors in order.
public struct SequenceProcessing: PostProcessor {
    public var processors: [any PostProcessor]
    public init(_ processors: [any PostProcessor]) { self.processors = processors }
    public func addedTokens(isPair: Bool) -> Int { processors.reduce(0) { $0 + $1.addedTokens(isPair: isPair) } }
    public func processEncodings(_ encodings: [Encoding], addSpecialTokens: Bool) -> [Encoding] {
        var e = encodings
        for p in processors { e = p.processEncodings(e, addSpecialTokens: addSpecialTokens) }
        return e
    }
}

