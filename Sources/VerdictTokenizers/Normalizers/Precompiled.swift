import Foundation

/// SentencePiece's precompiled normalization rules (`precompiled_charsmap`): a double-array trie
/// from UTF-8 byte strings to replacement strings, applied per grapheme cluster and then per scalar.
public struct PrecompiledNormalizer: Normalizer {
    let trie: [UInt32]
    let normalized: [UInt8]

    /// Parses the binary `precompiled_charsmap` blob.
    public init(charsmap: [UInt8]) throws {
        guard charsmap.count >= 4 else { throw TokenizerError.invalidArgument("precompiled_charsmap is shorter than its header") }
        let trieSize = Int(UInt32(charsmap[0]) | UInt32(charsmap[1]) << 8 | UInt32(charsmap[2]) << 16 | UInt32(charsmap[3]) << 24)
        guard trieSize % 4 == 0, 4 + trieSize <= charsmap.count else {
            throw TokenizerError.invalidArgument("precompiled_charsmap: trie size \(trieSize) exceeds the blob (\(charsmap.count) bytes)")
        }
        var units = [UInt32](repeating: 0, count: trieSize / 4)
        for i in 0..<units.count {
            let o = 4 + i * 4
            units[i] = UInt32(charsmap[o]) | UInt32(charsmap[o + 1]) << 8 | UInt32(charsmap[o + 2]) << 16 | UInt32(charsmap[o + 3]) << 24
        }
        trie = units
        normalized = Array(charsmap[(4 + trieSize)...])
    }

    @inline(__always) private static func hasLeaf(_ u: UInt32) -> Bool { (u >> 8) & 1 == 1 }
    @inline(__always) private static func value(_ u: UInt32) -> Int { Int(u & 0x7FFF_FFFF) }
    @inline(__always) private static func label(_ u: UInt32) -> UInt32 { u & 0x8000_00FF }
    @inline(__always) private static func offset(_ u: UInt32) -> Int { Int((u >> 10) << ((u & (1 << 9)) >> 6)) }

    /// Values of all trie entries that are prefixes of `key`, with their lengths.
    private func commonPrefixSearch(_ key: [UInt8]) -> [(length: Int, value: Int)] {
        guard !trie.isEmpty else { return [] }
        var results: [(Int, Int)] = []
        var nodePos = 0
        var unit = trie[nodePos]
        nodePos ^= Self.offset(unit)
        for (i, c) in key.enumerated() {
            if c == 0 { break }
            nodePos ^= Int(c)
            guard nodePos >= 0, nodePos < trie.count else { return results }
            unit = trie[nodePos]
            if Self.label(unit) != UInt32(c) { return results }
            nodePos ^= Self.offset(unit)
            guard nodePos >= 0, nodePos < trie.count else { return results }
            if Self.hasLeaf(unit) { results.append((i + 1, Self.value(trie[nodePos]))) }
        }
        return results
    }

    /// The replacement the rules give `bytes`: like `tokenizers`, the first (shortest) rule whose key
    /// is a prefix of `bytes` replaces all of them. An empty replacement deletes.
    private func transform(_ bytes: [UInt8]) -> [Unicode.Scalar]? {
        guard let match = commonPrefixSearch(bytes).first, match.value <= normalized.count else { return nil }
        var end = match.value
        while end < normalized.count, normalized[end] != 0 { end += 1 }
        return Array(String(decoding: normalized[match.value..<end], as: UTF8.self).unicodeScalars)
    }

    /// A grapheme cluster under 6 UTF-8 bytes is replaced as a whole when the rules match it;
    /// otherwise each scalar is replaced on its own (`tokenizers`' and SentencePiece's order).
    public func normalize(_ text: inout NormalizedString) {
        var stream: [AlignedScalar] = []
        stream.reserveCapacity(text.count)
        var modified = false
        var position = 0
        for grapheme in text.scalars.string {
            let range = position..<(position + grapheme.unicodeScalars.count)
            position = range.upperBound
            let bytes = Array(String(grapheme).utf8)
            if bytes.count < 6, let whole = transform(bytes) {
                Self.replace(&stream, count: range.count, with: whole)
                modified = true
                continue
            }
            for c in text.scalars[range] {
                if let replacement = transform(Array(String(c).utf8)) {
                    Self.replace(&stream, count: 1, with: replacement)
                    modified = true
                } else {
                    stream.append(AlignedScalar(scalar: c, change: 0))
                }
            }
        }
        if modified { text.transform(changes: stream) }
    }

    /// Appends `replacement` for `count` source scalars with `tokenizers`' change counts: extra
    /// scalars are insertions at the end; fewer are charged to the last scalar appended so far.
    private static func replace(_ stream: inout [AlignedScalar], count: Int, with replacement: [Unicode.Scalar]) {
        let difference = replacement.count - count
        stream.append(contentsOf: replacement.map { AlignedScalar(scalar: $0, change: 0) })
        if difference > 0 {
            for i in (stream.count - difference)..<stream.count { stream[i].change = 1 }
        } else if difference < 0, !stream.isEmpty {
            stream[stream.count - 1].change += difference
        }
    }
}
