import Foundation

/// The second stage: cuts normalized text into "words" that the model tokenizes independently.
public protocol PreTokenizer: Sendable {
    /// Splits one piece into pieces (which may be rewritten, as ByteLevel and Metaspace do).
    func split(_ piece: NormalizedString) -> [NormalizedString]
}

extension PreTokenizer {
    /// Applies the pre-tokenizer to every piece.
    func preTokenize(_ pieces: [NormalizedString]) -> [NormalizedString] {
        var out: [NormalizedString] = []
        out.reserveCapacity(pieces.count * 2)
        for p in pieces { out.append(contentsOf: split(p)) }
        return out
    }

    /// The words and their original offsets (scalar units) for a plain string.
    public func preTokenize(_ text: String) -> [(String, Range<Int>)] {
        split(NormalizedString(text)).map { ($0.string, $0.originalSpan) }
    }
}

/// Applies several pre-tokenizers in order.
public struct SequencePreTokenizer: PreTokenizer {
    public var preTokenizers: [any PreTokenizer]
    public init(_ preTokenizers: [any PreTokenizer]) { self.preTokenizers = preTokenizers }
    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        var pieces = [piece]
        for p in preTokenizers { pieces = p.preTokenize(pieces) }
        return pieces
    }
}

/// BERT's pre-tokenizer: split on whitespace, then isolate every punctuation character.
public struct BertPreTokenizer: PreTokenizer {
    public init() {}
    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        // Fast single pass: a word ends at whitespace; punctuation is its own word.
        let s = piece.scalars
        var out: [NormalizedString] = []
        var start = -1
        for i in 0..<s.count {
            let c = s[i]
            if UnicodeClasses.isWhitespace(c) {
                if start >= 0 { out.append(piece.slice(start..<i)); start = -1 }
            } else if UnicodeClasses.isBertPunctuation(c) {
                if start >= 0 { out.append(piece.slice(start..<i)); start = -1 }
                out.append(piece.slice(i..<(i + 1)))
            } else if start < 0 {
                start = i
            }
        }
        if start >= 0 { out.append(piece.slice(start..<s.count)) }
        return out
    }
}

/// Splits on the regex `\w+|[^\w\s]+`: runs of word characters and runs of other non-space characters.
public struct WhitespacePreTokenizer: PreTokenizer {
    public init() {}
    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        let s = piece.scalars
        var out: [NormalizedString] = []
        var i = 0
        while i < s.count {
            if UnicodeClasses.isWhitespace(s[i]) { i += 1; continue }
            let word = UnicodeClasses.isWordChar(s[i])
            var j = i + 1
            while j < s.count, !UnicodeClasses.isWhitespace(s[j]), UnicodeClasses.isWordChar(s[j]) == word { j += 1 }
            out.append(piece.slice(i..<j))
            i = j
        }
        return out
    }
}

/// Splits on whitespace, dropping it.
public struct WhitespaceSplit: PreTokenizer {
    public init() {}
    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        piece.split(where: UnicodeClasses.isWhitespace, behavior: .removed)
    }
}

/// Splits on punctuation characters.
public struct PunctuationPreTokenizer: PreTokenizer {
    public var behavior: SplitDelimiterBehavior
    public init(behavior: SplitDelimiterBehavior = .isolated) { self.behavior = behavior }
    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        piece.split(where: UnicodeClasses.isBertPunctuation, behavior: behavior)
    }
}

/// Splits digits from the rest, each digit alone when `individualDigits`.
public struct DigitsPreTokenizer: PreTokenizer {
    public var individualDigits: Bool
    public init(individualDigits: Bool = false) { self.individualDigits = individualDigits }
    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        piece.split(where: UnicodeClasses.isNumeric, behavior: individualDigits ? .isolated : .contiguous)
    }
}

/// Splits on one delimiter character, dropping it.
public struct CharDelimiterSplit: PreTokenizer {
    public var delimiter: Unicode.Scalar
    public init(delimiter: Unicode.Scalar) { self.delimiter = delimiter }
    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        let d = delimiter
        return piece.split(where: { $0 == d }, behavior: .removed)
    }
}

/// Splits on a literal or regex pattern with a delimiter behaviour; `invert` makes the matches the words.
public struct SplitPreTokenizer: PreTokenizer {
    public var pattern: Pattern
    public var behavior: SplitDelimiterBehavior
    public var invert: Bool
    public init(pattern: Pattern, behavior: SplitDelimiterBehavior, invert: Bool = false) {
        self.pattern = pattern; self.behavior = behavior; self.invert = invert
    }
    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        var matches = pattern.matches(in: piece.scalars)
        if invert {
            var inverted: [Range<Int>] = []
            var pos = 0
            for m in matches {
                if m.lowerBound > pos { inverted.append(pos..<m.lowerBound) }
                pos = m.upperBound
            }
            if pos < piece.count { inverted.append(pos..<piece.count) }
            matches = inverted
        }
        if matches.isEmpty { return piece.isEmpty ? [] : [piece] }
        return piece.split(matches: matches, behavior: behavior)
    }
}

/// SentencePiece's pre-tokenizer: spaces become `▁` (or `replacement`), a `▁` is prepended
/// according to `prependScheme`, and the text is split before each `▁`.
public struct Metaspace: PreTokenizer {
    /// When to prepend the replacement character.
    public enum PrependScheme: String, Sendable { case always, first, never }
    public var replacement: Unicode.Scalar
    public var prependScheme: PrependScheme
    public var splitOnReplacement: Bool

    public init(replacement: Unicode.Scalar = "\u{2581}", prependScheme: PrependScheme = .always, split: Bool = true) {
        self.replacement = replacement; self.prependScheme = prependScheme; self.splitOnReplacement = split
    }

    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        var p = piece
        let r = replacement
        p.transform { c, out in out.append(c == " " ? r : c) }
        switch prependScheme {
        case .always:
            if p.scalars.first != r { p.prepend([r]) }
        case .first:
            if p.scalars.first != r, p.originalSpan.lowerBound == 0 { p.prepend([r]) }
        case .never:
            break
        }
        if !splitOnReplacement { return p.isEmpty ? [] : [p] }
        return p.split(where: { $0 == r }, behavior: .mergedWithNext)
    }
}

/// GPT-2's byte-level pre-tokenizer: optional prefix space, the GPT-2 split regex, then every
/// UTF-8 byte mapped to a printable scalar.
public struct ByteLevelPreTokenizer: PreTokenizer {
    public var addPrefixSpace: Bool
    public var trimOffsets: Bool
    public var useRegex: Bool

    public init(addPrefixSpace: Bool = true, trimOffsets: Bool = true, useRegex: Bool = true) {
        self.addPrefixSpace = addPrefixSpace; self.trimOffsets = trimOffsets; self.useRegex = useRegex
    }

    public func split(_ piece: NormalizedString) -> [NormalizedString] {
        var p = piece
        if addPrefixSpace, let first = p.scalars.first, first != " " { p.prepend([" "]) }
        let words = useRegex ? p.split(matches: Self.gpt2Matches(p.scalars), behavior: .isolated) : (p.isEmpty ? [] : [p])
        return words.map { w in
            var w = w
            w.transform { c, out in
                if c.value < 0x80 {
                    out.append(ByteLevelAlphabet.scalar(for: UInt8(c.value)))
                } else {
                    for b in String(c).utf8 { out.append(ByteLevelAlphabet.scalar(for: b)) }
                }
            }
            return w
        }
    }

    /// The matches of `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    static func gpt2Matches(_ s: [Unicode.Scalar]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        let n = s.count
        var i = 0
        @inline(__always) func isL(_ c: Unicode.Scalar) -> Bool { UnicodeClasses.isLetter(c) }
        @inline(__always) func isN(_ c: Unicode.Scalar) -> Bool { UnicodeClasses.isNumeric(c) }
        @inline(__always) func isS(_ c: Unicode.Scalar) -> Bool { UnicodeClasses.isWhitespace(c) }
        @inline(__always) func isOther(_ c: Unicode.Scalar) -> Bool { !isS(c) && !isL(c) && !isN(c) }
        while i < n {
            let c = s[i]
            // Contractions.
            if c == "'", i + 1 < n {
                let a = s[i + 1]
                if a == "s" || a == "t" || a == "m" || a == "d" { out.append(i..<(i + 2)); i += 2; continue }
                if i + 2 < n {
                    let b = s[i + 2]
                    if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") {
                        out.append(i..<(i + 3)); i += 3; continue
                    }
                }
            }
            // Optional space followed by a class run.
            var j = i
            if c == " ", i + 1 < n { j = i + 1 }
            let d = s[j]
            if j < n, !(j == i && c == " ") || j > i {
                let cls: ((Unicode.Scalar) -> Bool)? = isL(d) ? isL : (isN(d) ? isN : (isOther(d) ? isOther : nil))
                if let cls {
                    var k = j + 1
                    while k < n, cls(s[k]) { k += 1 }
                    out.append(i..<k); i = k; continue
                }
            }
            if isS(c) {
                var k = i + 1
                while k < n, isS(s[k]) { k += 1 }
                if k == n || k - i == 1 {
                    out.append(i..<k); i = k
                } else {
                    out.append(i..<(k - 1)); i = k - 1
                }
                continue
            }
            // Unreachable in practice: every scalar is a letter, number, space or other.
            out.append(i..<(i + 1)); i += 1
        }
        return out
    }
}
