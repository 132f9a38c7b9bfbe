import Foundation

/// A literal string or a regular expression, as `tokenizers` accepts for `Split` and `Replace`.
/// Unchecked Sendable: `NSRegularExpression` is immutable and documented as safe to use from
/// several threads at once (it is not marked Sendable on Linux).
public enum Pattern: @unchecked Sendable {
    case string(String)
    case regex(NSRegularExpression, source: String)

    /// Compiles a regular expression, reporting a readable error.
    public static func regex(_ source: String) throws -> Pattern {
        do {
            return .regex(try NSRegularExpression(pattern: source, options: []), source: source)
        } catch {
            throw TokenizerError.invalidArgument("invalid regular expression \(source): \(error)")
        }
    }

    /// Non-overlapping matches, left to right, as ranges of scalar indices. Empty matches are skipped.
    func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        switch self {
        case .string(let literal):
            let needle = Array(literal.unicodeScalars)
            guard !needle.isEmpty, needle.count <= scalars.count else { return [] }
            var result: [Range<Int>] = []
            var i = 0
            let first = needle[0]
            while i + needle.count <= scalars.count {
                if scalars[i] == first, scalars[i..<(i + needle.count)].elementsEqual(needle) {
                    result.append(i..<(i + needle.count))
                    i += needle.count
                } else {
                    i += 1
                }
            }
            return result
        case .regex(let re, _):
            let string = scalars.string
            // Map UTF-16 offsets back to scalar indices.
            var utf16ToScalar = [Int](repeating: 0, count: string.utf16.count + 1)
            var u = 0
            for (i, s) in scalars.enumerated() {
                let w = s.utf16.count
                for k in 0..<w { utf16ToScalar[u + k] = i }
                u += w
            }
            utf16ToScalar[u] = scalars.count
            let ns = NSRange(location: 0, length: u)
            return re.matches(in: string, options: [], range: ns).compactMap { m in
                guard m.range.length > 0 else { return nil }
                return utf16ToScalar[m.range.location]..<utf16ToScalar[m.range.location + m.range.length]
            }
        }
    }
}

/// GPT-2's reversible map between bytes and printable scalars.
public enum ByteLevelAlphabet {
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var n: UInt32 = 0
        for b in 0..<256 {
            let printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF)
            if printable {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(256 + n)!
                n += 1
            }
        }
        return table
    }()

    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { map[s.value] = UInt8(b) }
        return map
    }()

    @inline(__always)
    static func scalar(for byte: UInt8) -> Unicode.Scalar { byteToScalar[Int(byte)] }

    static func byte(for scalar: Unicode.Scalar) -> UInt8? { scalarToByte[scalar.value] }
}
