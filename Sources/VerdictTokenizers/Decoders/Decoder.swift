import Foundation

/// The inverse stage: turns tokens back into text.
public protocol Decoder: Sendable {
    /// Rewrites the token strings (the chain step); `decode` joins the result.
    func decodeChain(_ tokens: [String]) -> [String]
}

extension Decoder {
    public func decode(_ tokens: [String]) -> String { decodeChain(tokens).joined() }
}

/// WordPiece: joins tokens with spaces, gluing `##` continuations; optional cleanup of spaces before punctuation.
public struct WordPieceDecoder: Decoder {
    public var prefix: String
    public var cleanup: Bool
    public init(prefix: String = "##", cleanup: Bool = true) { self.prefix = prefix; self.cleanup = cleanup }

    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            var token = t
            if i != 0 {
                if token.unicodeScalars.starts(with: prefix.unicodeScalars) {
                    token = String(String.UnicodeScalarView(token.unicodeScalars.dropFirst(prefix.unicodeScalars.count)))
                } else {
                    token = " " + token
                }
            }
            return cleanup ? cleanupTokenization(token) : token
        }
    }
}

/// The cleanup `transformers` and `tokenizers` apply to English decoded text.
func cleanupTokenization(_ s: String) -> String {
    s.replacingOccurrences(of: " .", with: ".")
        .replacingOccurrences(of: " ?", with: "?")
        .replacingOccurrences(of: " !", with: "!")
        .replacingOccurrences(of: " ,", with: ",")
        .replacingOccurrences(of: " ' ", with: "'")
        .replacingOccurrences(of: " n't", with: "n't")
        .replacingOccurrences(of: " 'm", with: "'m")
        .replacingOccurrences(of: " do not", with: " don't")
        .replacingOccurrences(of: " 's", with: "'s")
        .replacingOccurrences(of: " 've", with: "'ve")
        .replacingOccurrences(of: " 're", with: "'re")
}

/// Byte-level: maps the printable stand-ins back to bytes and decodes UTF-8 (invalid bytes become U+FFFD).
public struct ByteLevelDecoder: Decoder {
    public init() {}
    public func decodeChain(_ tokens: [String]) -> [String] {
        // Bytes of one character may be spread over several tokens: decode them all at once.
        var bytes: [UInt8] = []
        for t in tokens {
            for c in t.unicodeScalars {
                if let b = ByteLevelAlphabet.byte(for: c) { bytes.append(b) } else { bytes.append(contentsOf: Array(String(c).utf8)) }
            }
        }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}

/// Metaspace: `▁` back to spaces, dropping the one prepended to the first token.
public struct MetaspaceDecoder: Decoder {
    public var replacement: Unicode.Scalar
    public var prependScheme: Metaspace.PrependScheme
    public init(replacement: Unicode.Scalar = "\u{2581}", prependScheme: Metaspace.PrependScheme = .always) {
        self.replacement = replacement; self.prependScheme = prependScheme
    }
    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            var scalars = String.UnicodeScalarView()
            for (k, c) in t.unicodeScalars.enumerated() {
                if c == replacement {
                    if i == 0 && k == 0 && prependScheme != .never { continue }
                    scalars.append(" ")
                } else {
                    scalars.append(c)
                }
            }
            return String(scalars)
        }
    }
}

/// BPE with an end-of-word suffix: the suffix becomes a space (none after the last token).
public struct BPEDecoder: Decoder {
    public var suffix: String
    public init(suffix: String = "</w>") { self.suffix = suffix }
    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { i, t in
            t.replacingOccurrences(of: suffix, with: i == tokens.count - 1 ? "" : " ")
        }
    }
}

/// Byte fallback: runs of `<0xXX>` tokens become the UTF-8 text they spell (U+FFFD per invalid byte).
public struct ByteFallbackDecoder: Decoder {
    public init() {}
    public func decodeChain(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            if let s = String(validatingUTF8CString: pending) {
                out.append(s)
            } else {
                out.append(contentsOf: Array(repeating: "\u{FFFD}", count: pending.count))
            }
            pending = []
        }
        for t in tokens {
            let u = Array(t.utf8)
            if u.count == 6, u[0] == 0x3C, u[1] == 0x30, u[2] == 0x78, u[5] == 0x3E,
               let b = UInt8(String(decoding: u[3...4], as: UTF8.self), radix: 16) {
                pending.append(b)
            } else {
                flush()
                out.append(t)
            }
        }
        flush()
        return out
    }
}

extension String {
    /// Strict UTF-8 decoding (nil on any invalid sequence).
    init?(validatingUTF8CString bytes: [UInt8]) {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var scalars = String.UnicodeScalarView()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): scalars.append(s)
            case .emptyInput: break loop
            case .error: return nil
            }
        }
        self = String(scalars)
    }
}

/// Joins every token into one.
public struct FuseDecoder: Decoder {
    public init() {}
    public func decodeChain(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

/// Removes up to `start`/`stop` occurrences of `content` from each token's ends.
public struct StripDecoder: Decoder {
    public var content: Unicode.Scalar
    public var start: Int
    public var stop: Int
    public init(content: Unicode.Scalar, start: Int, stop: Int) { self.content = content; self.start = start; self.stop = stop }
    public func decodeChain(_ tokens: [String]) -> [String] {
        tokens.map { t in
            var s = Array(t.unicodeScalars)
            var lo = 0
            while lo < start, lo < s.count, s[lo] == content { lo += 1 }
            var hi = s.count, removed = 0
            while removed < stop, hi > lo, s[hi - 1] == content { hi -= 1; removed += 1 }
            s = Array(s[lo..<hi])
            return s.string
        }
    }
}

/// Replaces a pattern in each token.
public struct ReplaceDecoder: Decoder {
    public var pattern: Pattern
    public var content: String
    public init(pattern: Pattern, content: String) { self.pattern = pattern; self.content = content }
    public func decodeChain(_ tokens: [String]) -> [String] {
        let replace = Replace(pattern: pattern, content: content)
        return tokens.map { replace.normalize($0) }
    }
}

/// Applies several decoders' chain steps in order.
public struct SequenceDecoder: Decoder {
    public var decoders: [any Decoder]
    public init(_ decoders: [any Decoder]) { self.decoders = decoders }
    public func decodeChain(_ tokens: [String]) -> [String] {
        var t = tokens
        for d in decoders { t = d.decodeChain(t) }
        return t
    }
}
