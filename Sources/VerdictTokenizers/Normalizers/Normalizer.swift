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
public struct UnicodeNormalizer: Normalizer {
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
        switch form {
        case .nfd, .nfkd: decompose(&text, threshold: threshold)
        case .nfc, .nfkc: compose(&text, threshold: threshold)
        }
    }

    /// Decomposes scalar by scalar (each piece aligned to its source), then puts combining marks in canonical order.
    private func decompose(_ text: inout NormalizedString, threshold: UInt32) {
        let compatibility = form == .nfkd
        text.transform { c, out in
            if c.value < threshold {
                out.append(c)
            } else if !compatibility, !UnicodeClasses.contains(UnicodeTables.nfdChanges, c) {
                // `tokenizers`' tables predate Swift's: newer decompositions must not apply.
                out.append(c)
            } else {
                let s = String(c)
                out.append(contentsOf: (compatibility ? s.decomposedStringWithCompatibilityMapping : s.decomposedStringWithCanonicalMapping).unicodeScalars)
            }
        }
        text.reorderCombiningMarks()
    }

    /// Composes grapheme cluster by cluster; a cluster that changes length is aligned as a whole.
    private func compose(_ text: inout NormalizedString, threshold: UInt32) {
        var groups: [Range<Int>] = []
        var pos = 0
        for ch in text.scalars.string {
            let n = ch.unicodeScalars.count
            groups.append(pos..<(pos + n))
            pos += n
        }
        let compatibility = form == .nfkc
        text.transformGroups(groups) { group in
            if group.allSatisfy({ $0.value < threshold }) { return Array(group) }
            let s = group.string
            return Array((compatibility ? s.precomposedStringWithCompatibilityMapping : s.precomposedStringWithCanonicalMapping).unicodeScalars)
        }
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
        var groups: [Range<Int>] = []
        var pos = 0
        var isMatch: [Bool] = []
        for m in matches {
            for i in pos..<m.lowerBound { groups.append(i..<(i + 1)); isMatch.append(false) }
            groups.append(m); isMatch.append(true)
            pos = m.upperBound
        }
        for i in pos..<text.count { groups.append(i..<(i + 1)); isMatch.append(false) }
        let replacement = Array(content.unicodeScalars)
        var k = 0
        text.transformGroups(groups) { group in
            defer { k += 1 }
            return isMatch[k] ? replacement : Array(group)
        }
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
