import Foundation

/// The first stage of the pipeline: rewrites the text (lower-casing, accent stripping, Unicode
/// normalization, …) while keeping every scalar aligned to the original text.
public protocol Normalizer: Sendable {
    func normalize(_ text: inout NormalizedString)
}

extension Normalizer {
    /// Normalizes a plain string (convenience for tests and tools).
    public func normalize(_ text: String) -> String {
        var s = NormalizedString(text)
        normalize(&s)
        return s.string
    }
}

/// Applies several normalizers in order.
public struct SequenceNormalizer: Normalizer {
    public var normalizers: [any Normalizer]
    public init(_ normalizers: [any Normalizer]) { self.normalizers = normalizers }
    public func normalize(_ text: inout NormalizedString) {
        for n in normalizers { n.normalize(&text) }
    }
}

/// BERT's normalizer: control-character removal, whitespace cleanup, spaces around CJK
/// ideographs, accent stripping and lower-casing, each switchable as in `tokenizers`.
public struct BertNormalizer: Normalizer {
    public var cleanText: Bool
    public var handleChineseChars: Bool
    /// `nil` means "strip accents when lower-casing", as in BERT.
    public var stripAccents: Bool?
    public var lowercase: Bool

    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    public func normalize(_ text: inout NormalizedString) {
        let strip = stripAccents ?? lowercase
        let clean = cleanText, chinese = handleChineseChars, lower = lowercase
        // One pass for the per-scalar steps that never need context.
        if clean || chinese {
            text.transform { c, out in
                if clean {
                    if c.value == 0 || c.value == 0xFFFD || UnicodeClasses.isBertControl(c) { return }
                    if UnicodeClasses.isBertWhitespace(c) { out.append(" "); return }
                }
                if chinese, UnicodeClasses.isChineseChar(c) {
                    out.append(" "); out.append(c); out.append(" ")
                    return
                }
                out.append(c)
            }
        }
        if strip {
            UnicodeNormalizer(form: .nfd).normalize(&text)
            text.transform { c, out in if !UnicodeClasses.isNonspacingMark(c) { out.append(c) } }
        }
        if lower { Lowercase().normalize(&text) }
    }
}

/// Lower-cases each scalar with the full Unicode mapping (one scalar may become several).
public struct Lowercase: Normalizer {
    public init() {}
    public func normalize(_ text: inout NormalizedString) {
        if !text.scalars.contains(where: { $0.value >= 0x80 || ($0.value >= 0x41 && $0.value <= 0x5A) }) { return }
        text.transform { c, out in
            let v = c.value
            if v < 0x80 {
                out.append((v >= 0x41 && v <= 0x5A) ? Unicode.Scalar(v + 32)! : c)
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
    }
}

/// Unicode normalization forms NFC, NFD, NFKC and NFKD.
///
/// Alignments follow `tokenizers` exactly: the normalizer emits each scalar with a change count
/// (0 takes the place of the next source scalar, 1 is inserted after the previous one, -n also
/// swallows n more) and the counts, not the scalars' true sources, decide the offsets. Where
/// combining marks are put in canonical order, a mark therefore takes the offset of the position
/// it moves to, as in `tokenizers`.
public struct UnicodeNormalizer: Normalizer {
    /// The Unicode normalization form, named as in `tokenizers` (`NFC`, `NFD`, `NFKC`, `NFKD`).
    public enum Form: String, Sendable { case nfc = "NFC", nfd = "NFD", nfkc = "NFKC", nfkd = "NFKD" }
    public var form: Form
    public init(form: Form) { self.form = form }

    public func normalize(_ text: inout NormalizedString) {
        // Scalars below this value are unchanged by the form and never combine with a following mark.
        let threshold: UInt32
        switch form {
        case .nfd: threshold = 0xC0
        case .nfkd, .nfkc: threshold = 0xA0
        case .nfc: threshold = 0x300
        }
        guard text.scalars.contains(where: { $0.value >= threshold }) else { return }
        var stream = decompose(text.scalars, threshold: threshold)
        if form == .nfc || form == .nfkc { stream = Self.compose(stream) }
        text.transform(changes: stream)
    }

    /// Decomposes scalar by scalar, then stably sorts every run of combining marks by class.
    private func decompose(_ scalars: [Unicode.Scalar], threshold: UInt32) -> [AlignedScalar] {
        let compatibility = form == .nfkd || form == .nfkc
        var out: [AlignedScalar] = []
        out.reserveCapacity(scalars.count)
        var runStart = 0  // first entry not yet in canonical order
        func push(_ c: Unicode.Scalar, first: Bool) {
            if Self.combiningClass(c) == 0 {
                Self.sortMarks(&out, from: runStart)
                runStart = out.count
            }
            out.append(AlignedScalar(scalar: c, change: first ? 0 : 1))
        }
        for c in scalars {
            // `tokenizers`' tables predate Swift's: newer canonical decompositions must not apply.
            if c.value < threshold || (!compatibility && !UnicodeClasses.contains(UnicodeTables.nfdChanges, c)) {
                push(c, first: true)
                continue
            }
            let s = String(c)
            let pieces = compatibility ? s.decomposedStringWithCompatibilityMapping : s.decomposedStringWithCanonicalMapping
            var first = true
            for d in pieces.unicodeScalars { push(d, first: first); first = false }
        }
        Self.sortMarks(&out, from: runStart)
        return out
    }

    /// Stable sort of `stream[from...]` by canonical combining class.
    private static func sortMarks(_ stream: inout [AlignedScalar], from start: Int) {
        guard stream.count - start > 1 else { return }
        var i = start + 1
        while i < stream.count {  // insertion sort: runs are short, and it is stable
            var j = i
            let item = stream[j], cls = combiningClass(item.scalar)
            while j > start, combiningClass(stream[j - 1].scalar) > cls {
                stream[j] = stream[j - 1]
                j -= 1
            }
            stream[j] = item
            i += 1
        }
    }

    /// Canonical composition (UAX #15, D117). A composite carries `starter + mark - 1` changes.
    private static func compose(_ input: [AlignedScalar]) -> [AlignedScalar] {
        var out: [AlignedScalar] = []
        out.reserveCapacity(input.count)
        var starter: AlignedScalar? = nil
        var blocked: [AlignedScalar] = []  // marks after the starter that did not combine with it
        var lastClass: UInt8? = nil  // class of the last of `blocked`
        for item in input {
            let cls = combiningClass(item.scalar)
            guard let k = starter else {
                if cls == 0 { starter = item } else { out.append(item) }
                continue
            }
            if let last = lastClass, last >= cls {
                if cls == 0 {
                    out.append(k)
                    out.append(contentsOf: blocked)
                    blocked.removeAll(keepingCapacity: true)
                    lastClass = nil
                    starter = item
                } else {
                    blocked.append(item)
                    lastClass = cls
                }
                continue
            }
            if item.scalar.value >= 0x300, let composite = composite(k.scalar, item.scalar) {
                starter = AlignedScalar(scalar: composite, change: k.change + item.change - 1)
            } else if cls == 0 {
                out.append(k)
                starter = item
            } else {
                blocked.append(item)
                lastClass = cls
            }
        }
        if let k = starter { out.append(k) }
        out.append(contentsOf: blocked)
        return out
    }

    private static func combiningClass(_ c: Unicode.Scalar) -> UInt8 {
        c.value < 0x300 ? 0 : c.properties.canonicalCombiningClass.rawValue
    }

    /// The primary composite of two scalars, if Unicode defines one.
    private static func composite(_ a: Unicode.Scalar, _ b: Unicode.Scalar) -> Unicode.Scalar? {
        // Hangul syllables are composed arithmetically (Unicode §3.12).
        let (x, y) = (a.value, b.value)
        if (0x1100...0x1112).contains(x), (0x1161...0x1175).contains(y) {
            return Unicode.Scalar(0xAC00 + (x - 0x1100) * 588 + (y - 0x1161) * 28)
        }
        if (0xAC00...0xD7A3).contains(x), (x - 0xAC00) % 28 == 0, (0x11A8...0x11C2).contains(y) {
            return Unicode.Scalar(x + (y - 0x11A7))
        }
        if (0x1100...0x11FF).contains(y) || (0xAC00...0xD7A3).contains(x) { return nil }
        var pair = String.UnicodeScalarView()
        pair.append(a); pair.append(b)
        let composed = String(pair).precomposedStringWithCanonicalMapping.unicodeScalars
        return composed.count == 1 ? composed.first : nil
    }
}

/// Removes combining marks (categories Mn, Mc, Me); used after NFD.
public struct StripAccents: Normalizer {
    public init() {}
    public func normalize(_ text: inout NormalizedString) {
        text.transform { c, out in
            if c.value >= 0x300 {
                switch c.properties.generalCategory {
                case .nonspacingMark, .spacingMark, .enclosingMark: return
                default: break
                }
            }
            out.append(c)
        }
    }
}

/// Strips whitespace on the left and/or right.
public struct Strip: Normalizer {
    public var left: Bool
    public var right: Bool
    public init(left: Bool = true, right: Bool = true) { self.left = left; self.right = right }
    public func normalize(_ text: inout NormalizedString) { text.strip(left: left, right: right) }
}

/// Prepends a string to non-empty text.
public struct Prepend: Normalizer {
    public var prefix: String
    public init(_ prefix: String) { self.prefix = prefix }
    public func normalize(_ text: inout NormalizedString) { text.prepend(Array(prefix.unicodeScalars)) }
}

/// Replaces every match of a literal string or a regular expression by `content`.
public struct Replace: Normalizer {
    public var pattern: Pattern
    public var content: String
    public init(pattern: Pattern, content: String) { self.pattern = pattern; self.content = content }

    public func normalize(_ text: inout NormalizedString) {
        let matches = pattern.matches(in: text.scalars)
        guard !matches.isEmpty else { return }
        // `tokenizers` aligns the replacement to the scalar holding UTF-8 byte
        // (match start + number of matched scalars - 1): the last scalar for ASCII matches.
        var byteStart = [Int](repeating: 0, count: text.count + 1)
        for (i, c) in text.scalars.enumerated() { byteStart[i + 1] = byteStart[i] + UTF8.width(c) }
        let anchors = matches.map { m -> Int in
            let target = byteStart[m.lowerBound] + m.count - 1
            var k = m.lowerBound
            while k + 1 < m.upperBound, byteStart[k + 1] <= target { k += 1 }
            return k
        }
        text.replace(matches, with: Array(content.unicodeScalars), alignedTo: anchors)
    }
}

/// The control-character cleanup of SentencePiece's NMT normalization.
public struct NmtNormalizer: Normalizer {
    public init() {}
    public func normalize(_ text: inout NormalizedString) {
        text.transform { c, out in
            switch c.value {
            case 0x0001...0x0008, 0x000B, 0x000E...0x001F, 0x007F, 0x008F, 0x009F:
                return
            case 0x0009, 0x000A, 0x000C, 0x000D, 0x1680, 0x200B...0x200F, 0x2028, 0x2029, 0x2581, 0xFEFF, 0xFFFD:
                out.append(" ")
            default:
                out.append(c)
            }
        }
    }
}

/// Maps every byte of the UTF-8 text to its printable byte-level stand-in (GPT-2's alphabet).
public struct ByteLevelNormalizer: Normalizer {
    public init() {}
    public func normalize(_ text: inout NormalizedString) {
        text.transform { c, out in
            for b in String(c).utf8 { out.append(ByteLevelAlphabet.scalar(for: b)) }
        }
    }
}
