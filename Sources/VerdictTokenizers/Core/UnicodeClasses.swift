/// Character classes exactly as the Rust `tokenizers` crate defines them.
///
/// Swift's `Character` properties differ from Rust's `char` ones in small but id-changing ways,
/// so every predicate the pipeline uses lives here, on `Unicode.Scalar`.
enum UnicodeClasses {
    /// Rust `char::is_whitespace`: the Unicode `White_Space` property.
    @inline(__always)
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        return c.properties.isWhitespace
    }

    /// Whether `c` lies in one of the flattened closed ranges of `table`.
    static func contains(_ table: [UInt32], _ c: Unicode.Scalar) -> Bool {
        let v = c.value
        var lo = 0, hi = table.count / 2
        while lo < hi {
            let mid = (lo + hi) / 2
            if table[2 * mid + 1] < v { lo = mid + 1 } else { hi = mid }
        }
        return lo < table.count / 2 && table[2 * lo] <= v
    }

    /// BERT's whitespace: space, tab, newline, carriage return and the other `White_Space` scalars.
    @inline(__always)
    static func isBertWhitespace(_ c: Unicode.Scalar) -> Bool {
        c.value < 0x80 ? isWhitespace(c) : contains(UnicodeTables.bertWhitespace, c)
    }

    /// BERT's control characters: categories Cc, Cf, Co (in `tokenizers`' Unicode version) except tab, newline and carriage return.
    static func isBertControl(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09, 0x0A, 0x0D: return false
        default: break
        }
        if c.value >= 0x20 && c.value < 0x7F { return false }
        return contains(UnicodeTables.bertControl, c)
    }

    /// BERT's punctuation: every ASCII symbol (`$`, `^`, `` ` ``, …) plus Unicode punctuation (P*) in `tokenizers`' Unicode version.
    @inline(__always)
    static func isBertPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 {
            return (v >= 33 && v <= 47) || (v >= 58 && v <= 64) || (v >= 91 && v <= 96) || (v >= 123 && v <= 126)
        }
        return contains(UnicodeTables.bertPunctuation, c)
    }

    /// The CJK ideograph blocks BERT surrounds with spaces.
    @inline(__always)
    static func isChineseChar(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default: return false
        }
    }

    /// Rust `char::is_numeric`: categories Nd, Nl, No.
    static func isNumeric(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return c.value >= 0x30 && c.value <= 0x39 }
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// Regex `\p{L}`.
    static func isLetter(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 { return (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    /// Rust `char::is_alphabetic`: the Unicode `Alphabetic` property.
    static func isAlphabetic(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 { return isLetter(c) }
        return c.properties.isAlphabetic
    }

    /// Regex `\w` as Oniguruma defines it for Unicode: letters, marks, numbers, connector punctuation.
    static func isWordChar(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if v < 0x80 {
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        if c.properties.isAlphabetic { return true }
        switch c.properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// Nonspacing marks (Mn), removed when accents are stripped.
    @inline(__always)
    static func isNonspacingMark(_ c: Unicode.Scalar) -> Bool {
        c.value >= 0x300 && contains(UnicodeTables.nonspacingMark, c)
    }
}
