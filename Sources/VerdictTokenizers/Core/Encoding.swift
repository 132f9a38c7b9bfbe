/// The result of tokenizing one text or text pair: ids, masks, tokens and offsets, aligned index by index.
///
/// Offsets are `(start, end)` in Unicode scalars of the original text (Python's character
/// offsets); special and padding tokens have `(0, 0)`. Use ``Encoding/utf16Offsets(in:)`` or
/// ``Encoding/utf8Offsets(in:)`` for other views.
public struct Encoding: Sendable, Equatable {
    public var ids: [Int]
    public var typeIds: [Int]
    public var tokens: [String]
    public var offsets: [Offset]
    /// The index of the pre-tokenized word each token came from (`nil` for special and padding tokens).
    public var wordIds: [Int?]
    /// 0 for the sequence the token came from (or 1 for the pair), `nil` for special and padding tokens.
    public var sequenceIds: [Int?]
    public var specialTokensMask: [Int]
    public var attentionMask: [Int]
    /// The windows cut off by truncation (with `stride` tokens of overlap), each a full encoding.
    public var overflowing: [Encoding]

    /// A `(start, end)` pair of offsets.
    public struct Offset: Sendable, Equatable, Hashable, CustomStringConvertible {
        public var start: Int
        public var end: Int
        public init(_ start: Int, _ end: Int) { self.start = start; self.end = end }
        public var description: String { "(\(start), \(end))" }
    }

    public init() {
        ids = []; typeIds = []; tokens = []; offsets = []; wordIds = []; sequenceIds = []
        specialTokensMask = []; attentionMask = []; overflowing = []
    }

    public var count: Int { ids.count }

    /// An encoding made of special tokens only.
    static func special(ids: [Int], tokens: [String], typeId: Int) -> Encoding {
        var e = Encoding()
        e.ids = ids
        e.tokens = tokens
        e.typeIds = Array(repeating: typeId, count: ids.count)
        e.offsets = Array(repeating: Offset(0, 0), count: ids.count)
        e.wordIds = Array(repeating: nil, count: ids.count)
        e.sequenceIds = Array(repeating: nil, count: ids.count)
        e.specialTokensMask = Array(repeating: 1, count: ids.count)
        e.attentionMask = Array(repeating: 1, count: ids.count)
        return e
    }

    func slice(_ range: Range<Int>) -> Encoding {
        var e = Encoding()
        e.ids = Array(ids[range]); e.typeIds = Array(typeIds[range]); e.tokens = Array(tokens[range])
        e.offsets = Array(offsets[range]); e.wordIds = Array(wordIds[range]); e.sequenceIds = Array(sequenceIds[range])
        e.specialTokensMask = Array(specialTokensMask[range]); e.attentionMask = Array(attentionMask[range])
        return e
    }

    mutating func setTypeIds(_ typeId: Int) { typeIds = Array(repeating: typeId, count: ids.count) }

    mutating func setSequenceId(_ id: Int) {
        sequenceIds = Array(repeating: id, count: ids.count)
    }

    /// Keeps at most `maxLength` tokens; the rest become overlapping windows in `overflowing`.
    mutating func truncate(maxLength: Int, stride: Int, direction: Side) throws {
        let n = ids.count
        if maxLength >= n { return }
        if maxLength == 0 {
            let all = self
            self = Encoding()
            overflowing = [all]
            return
        }
        guard stride < maxLength else {
            throw TokenizerError.invalidArgument(
                "stride (\(stride)) must be smaller than the length a sequence is truncated to (\(maxLength), after room for special tokens)")
        }
        let step = maxLength - stride
        var parts: [Range<Int>] = []
        switch direction {
        case .right:
            var start = 0
            while true {
                let stop = min(start + maxLength, n)
                parts.append(start..<stop)
                if stop == n { break }
                start += step
            }
        case .left:
            var stop = n
            while true {
                let start = max(stop - maxLength, 0)
                parts.append(start..<stop)
                if start == 0 { break }
                stop -= step
            }
        }
        var first = slice(parts[0])
        for p in parts.dropFirst() { first.overflowing.append(slice(p)) }
        self = first
    }

    /// Appends `other`, combining overflowing windows the way `tokenizers` does.
    mutating func merge(with other: Encoding) {
        var overflowings: [Encoding] = []
        for mine in overflowing {
            var e = mine
            e.appendTokens(other)
            overflowings.append(e)
            for theirs in other.overflowing {
                var e2 = mine
                e2.appendTokens(theirs)
                overflowings.append(e2)
            }
        }
        for theirs in other.overflowing {
            var e = self
            e.overflowing = []
            e.appendTokens(theirs)
            overflowings.append(e)
        }
        appendTokens(other)
        overflowing = overflowings
    }

    mutating func appendTokens(_ other: Encoding) {
        ids += other.ids; typeIds += other.typeIds; tokens += other.tokens; offsets += other.offsets
        wordIds += other.wordIds; sequenceIds += other.sequenceIds
        specialTokensMask += other.specialTokensMask; attentionMask += other.attentionMask
    }

    /// Pads (this encoding and its overflowing windows) to `length`.
    mutating func pad(to length: Int, id: Int, typeId: Int, token: String, side: Side) {
        for i in overflowing.indices { overflowing[i].pad(to: length, id: id, typeId: typeId, token: token, side: side) }
        let k = length - ids.count
        guard k > 0 else { return }
        func padded<T>(_ a: [T], _ v: T) -> [T] {
            side == .right ? a + Array(repeating: v, count: k) : Array(repeating: v, count: k) + a
        }
        ids = padded(ids, id); typeIds = padded(typeIds, typeId); tokens = padded(tokens, token)
        offsets = padded(offsets, Offset(0, 0)); wordIds = padded(wordIds, nil); sequenceIds = padded(sequenceIds, nil)
        specialTokensMask = padded(specialTokensMask, 1); attentionMask = padded(attentionMask, 0)
    }

    /// Offsets converted to UTF-16 code units of `text` (for `NSString`/`NSRange` users).
    public func utf16Offsets(in text: String) -> [Offset] { convertOffsets(in: text) { $0.utf16.count } }

    /// Offsets converted to UTF-8 bytes of `text`.
    public func utf8Offsets(in text: String) -> [Offset] { convertOffsets(in: text) { $0.utf8.count } }

    private func convertOffsets(in text: String, width: (Unicode.Scalar) -> Int) -> [Offset] {
        var prefix = [0]
        for s in text.unicodeScalars { prefix.append(prefix.last! + width(s)) }
        let top = prefix.count - 1
        return offsets.map { Offset(prefix[min($0.start, top)], prefix[min($0.end, top)]) }
    }
}

/// Left or right, for padding and truncation.
public enum Side: String, Sendable { case left, right }
