import Foundation

/// A string being normalized, with every normalized scalar aligned to the range of original
/// scalars it came from, so that token offsets can be reported in the user's original text.
///
/// Offsets are counted in Unicode scalars of the original string (what Python calls characters).
public struct NormalizedString: Sendable {
    /// The normalized scalars.
    public internal(set) var scalars: [Unicode.Scalar]
    /// For each normalized scalar, the start of its original range.
    var starts: [Int32]
    /// For each normalized scalar, the end of its original range.
    var ends: [Int32]
    /// Where this piece sits in the original string when it is empty.
    var anchor: Int32

    /// Wraps `text` unchanged: each scalar aligned to itself.
    public init(_ text: String) {
        self.init(scalars: Array(text.unicodeScalars), offset: 0)
    }

    init(scalars: [Unicode.Scalar], offset: Int) {
        self.scalars = scalars
        let n = scalars.count
        starts = [Int32](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = Int32(offset + i) }
            count = n
        }
        ends = [Int32](unsafeUninitializedCapacity: n) { buf, count in
            for i in 0..<n { buf[i] = Int32(offset + i + 1) }
            count = n
        }
        anchor = Int32(offset)
    }

    init(scalars: [Unicode.Scalar], starts: [Int32], ends: [Int32], anchor: Int32) {
        self.scalars = scalars
        self.starts = starts
        self.ends = ends
        self.anchor = anchor
    }

    /// The normalized text.
    public var string: String { scalars.string }

    public var isEmpty: Bool { scalars.isEmpty }
    public var count: Int { scalars.count }

    /// The original range covered by normalized scalars `range`.
    func originalRange(_ range: Range<Int>) -> Range<Int> {
        if range.isEmpty {
            if range.lowerBound < starts.count { return Int(starts[range.lowerBound])..<Int(starts[range.lowerBound]) }
            if let last = ends.last { return Int(last)..<Int(last) }
            return Int(anchor)..<Int(anchor)
        }
        return Int(starts[range.lowerBound])..<Int(ends[range.upperBound - 1])
    }

    /// The original range this whole piece covers.
    var originalSpan: Range<Int> { originalRange(0..<scalars.count) }

    /// A slice in normalized coordinates, keeping alignments.
    func slice(_ range: Range<Int>) -> NormalizedString {
        let anchor: Int32
        if range.lowerBound < starts.count { anchor = starts[range.lowerBound] }
        else { anchor = ends.last ?? self.anchor }
        return NormalizedString(
            scalars: Array(scalars[range]), starts: Array(starts[range]), ends: Array(ends[range]), anchor: anchor)
    }

    /// Replaces each scalar by zero or more scalars, each aligned to the scalar it replaces.
    /// `body` appends the replacement to `out` and returns nothing; appending nothing deletes the scalar.
    mutating func transform(_ body: (Unicode.Scalar, inout [Unicode.Scalar]) -> Void) {
        var newScalars: [Unicode.Scalar] = []
        newScalars.reserveCapacity(scalars.count)
        var newStarts: [Int32] = []
        newStarts.reserveCapacity(scalars.count)
        var newEnds: [Int32] = []
        newEnds.reserveCapacity(scalars.count)
        for i in 0..<scalars.count {
            let before = newScalars.count
            body(scalars[i], &newScalars)
            let added = newScalars.count - before
            for _ in 0..<added {
                newStarts.append(starts[i])
                newEnds.append(ends[i])
            }
        }
        if newScalars.isEmpty, !scalars.isEmpty { anchor = starts[0] }
        scalars = newScalars
        starts = newStarts
        ends = newEnds
    }

    /// Replaces each of `matches` (sorted, disjoint) by `replacement`, aligned to scalar `anchors[k]`.
    mutating func replace(_ matches: [Range<Int>], with replacement: [Unicode.Scalar], alignedTo anchors: [Int]) {
        var newScalars: [Unicode.Scalar] = [], newStarts: [Int32] = [], newEnds: [Int32] = []
        newScalars.reserveCapacity(scalars.count)
        var pos = 0
        for (m, anchor) in zip(matches, anchors) {
            newScalars.append(contentsOf: scalars[pos..<m.lowerBound])
            newStarts.append(contentsOf: starts[pos..<m.lowerBound])
            newEnds.append(contentsOf: ends[pos..<m.lowerBound])
            for c in replacement { newScalars.append(c); newStarts.append(starts[anchor]); newEnds.append(ends[anchor]) }
            pos = m.upperBound
        }
        newScalars.append(contentsOf: scalars[pos...]); newStarts.append(contentsOf: starts[pos...]); newEnds.append(contentsOf: ends[pos...])
        if newScalars.isEmpty, !scalars.isEmpty { anchor = starts[0] }
        scalars = newScalars; starts = newStarts; ends = newEnds
    }

    /// Replaces the whole text by `stream`, aligning it the way `tokenizers` does: an entry with
    /// change 0 takes the alignment of the next unused scalar, -n also skips n more, and a positive
    /// change is an insertion aligned like the scalar before it.
    mutating func transform(changes stream: [AlignedScalar]) {
        var newScalars: [Unicode.Scalar] = [], newStarts: [Int32] = [], newEnds: [Int32] = []
        newScalars.reserveCapacity(stream.count)
        newStarts.reserveCapacity(stream.count)
        newEnds.reserveCapacity(stream.count)
        var next = 0  // the next scalar of `self` not yet replaced
        for item in stream {
            let source: Int
            if item.change > 0 {
                source = next - 1
            } else {
                source = next
                next += 1 - item.change
            }
            newScalars.append(item.scalar)
            if source >= 0, source < scalars.count {
                newStarts.append(starts[source]); newEnds.append(ends[source])
            } else {
                let edge = source < 0 ? (starts.first ?? anchor) : (ends.last ?? anchor)
                newStarts.append(edge); newEnds.append(edge)
            }
        }
        if newScalars.isEmpty, !scalars.isEmpty { anchor = starts[0] }
        scalars = newScalars; starts = newStarts; ends = newEnds
    }

    /// Inserts `prefix` at the start, aligned to the first scalar (as `tokenizers` does).
    mutating func prepend(_ prefix: [Unicode.Scalar]) {
        guard !scalars.isEmpty else { return }
        let s = starts[0], e = ends[0]
        scalars.insert(contentsOf: prefix, at: 0)
        starts.insert(contentsOf: [Int32](repeating: s, count: prefix.count), at: 0)
        ends.insert(contentsOf: [Int32](repeating: e, count: prefix.count), at: 0)
    }

    /// Appends `suffix`, aligned to the last scalar.
    mutating func append(_ suffix: [Unicode.Scalar]) {
        guard let s = starts.last, let e = ends.last else { return }
        scalars.append(contentsOf: suffix)
        starts.append(contentsOf: [Int32](repeating: s, count: suffix.count))
        ends.append(contentsOf: [Int32](repeating: e, count: suffix.count))
    }

    /// Removes leading and/or trailing whitespace.
    mutating func strip(left: Bool, right: Bool) {
        var lo = 0, hi = scalars.count
        if left { while lo < hi, UnicodeClasses.isWhitespace(scalars[lo]) { lo += 1 } }
        if right { while hi > lo, UnicodeClasses.isWhitespace(scalars[hi - 1]) { hi -= 1 } }
        if lo == 0 && hi == scalars.count { return }
        self = slice(lo..<hi)
    }

    /// Splits into pieces according to `behavior`, given the matched ranges (sorted, disjoint) in normalized coordinates.
    func split(matches: [Range<Int>], behavior: SplitDelimiterBehavior) -> [NormalizedString] {
        // Build a list of (range, isMatch) covering the whole string.
        var parts: [(Range<Int>, Bool)] = []
        var pos = 0
        for m in matches {
            if m.lowerBound > pos { parts.append((pos..<m.lowerBound, false)) }
            parts.append((m, true))
            pos = m.upperBound
        }
        if pos < scalars.count { parts.append((pos..<scalars.count, false)) }

        var pieces: [Range<Int>] = []
        switch behavior {
        case .removed:
            pieces = parts.filter { !$0.1 }.map { $0.0 }
        case .isolated:
            pieces = parts.map { $0.0 }
        case .mergedWithPrevious:
            var previousWasMatch = false
            for (r, isMatch) in parts {
                if isMatch, !previousWasMatch, let last = pieces.last {
                    pieces[pieces.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    pieces.append(r)
                }
                previousWasMatch = isMatch
            }
        case .mergedWithNext:
            var previousWasMatch = false
            for (r, isMatch) in parts {
                if !isMatch, previousWasMatch, let last = pieces.last {
                    pieces[pieces.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    pieces.append(r)
                }
                previousWasMatch = isMatch
            }
        case .contiguous:
            var previousWasMatch = false
            for (r, isMatch) in parts {
                if isMatch, previousWasMatch, let last = pieces.last {
                    pieces[pieces.count - 1] = last.lowerBound..<r.upperBound
                } else {
                    pieces.append(r)
                }
                previousWasMatch = isMatch
            }
        }
        return pieces.filter { !$0.isEmpty }.map { slice($0) }
    }

    /// Splits wherever `isDelimiter` holds, each delimiter scalar being one match.
    func split(where isDelimiter: (Unicode.Scalar) -> Bool, behavior: SplitDelimiterBehavior) -> [NormalizedString] {
        var matches: [Range<Int>] = []
        for i in 0..<scalars.count where isDelimiter(scalars[i]) { matches.append(i..<(i + 1)) }
        if matches.isEmpty { return scalars.isEmpty ? [] : [self] }
        return split(matches: matches, behavior: behavior)
    }
}

/// A scalar produced by a normalizer with its change count (see `NormalizedString.transform(changes:)`).
struct AlignedScalar {
    var scalar: Unicode.Scalar
    var change: Int
}

/// How a split treats the delimiters it finds (`tokenizers`' `SplitDelimiterBehavior`).
public enum SplitDelimiterBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"
}

extension Array where Element == Unicode.Scalar {
    /// Builds a `String` from exactly these scalars.
    var string: String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: self)
        return String(s)
    }
}

extension ArraySlice where Element == Unicode.Scalar {
    var string: String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: self)
        return String(s)
    }
}
