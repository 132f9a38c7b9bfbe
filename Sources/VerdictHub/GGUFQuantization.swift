import Foundation
import VerdictTensor

/// A ggml tensor type (`ggml_type`): its name and block layout (values per block, bytes per block).
///
/// Every type of ggml's table is known here, so a file holding a type Verdict cannot decode still
/// parses (its sizes are checked like any other); only dequantizing that tensor fails.
public struct GGMLType: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public let name: String
    /// Values per block (1 for plain element types).
    public let blockSize: Int
    /// Bytes per block.
    public let typeSize: Int

    /// The types of gguf-py's `GGML_QUANT_SIZES`, by id.
    static let table: [UInt32: GGMLType] = {
        let rows: [(UInt32, String, Int, Int)] = [
            (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20), (6, "Q5_0", 32, 22),
            (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34), (9, "Q8_1", 32, 40), (10, "Q2_K", 256, 84), (11, "Q3_K", 256, 110),
            (12, "Q4_K", 256, 144), (13, "Q5_K", 256, 176), (14, "Q6_K", 256, 210), (15, "Q8_K", 256, 292),
            (16, "IQ2_XXS", 256, 66), (17, "IQ2_XS", 256, 74), (18, "IQ3_XXS", 256, 98), (19, "IQ1_S", 256, 50),
            (20, "IQ4_NL", 32, 18), (21, "IQ3_S", 256, 110), (22, "IQ2_S", 256, 82), (23, "IQ4_XS", 256, 136),
            (24, "I8", 1, 1), (25, "I16", 1, 2), (26, "I32", 1, 4), (27, "I64", 1, 8), (28, "F64", 1, 8),
            (29, "IQ1_M", 256, 56), (30, "BF16", 1, 2), (34, "TQ1_0", 256, 54), (35, "TQ2_0", 256, 66),
            (39, "MXFP4", 32, 17), (40, "NVFP4", 64, 36), (41, "Q1_0", 128, 18),
        ]
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.0, GGMLType(rawValue: $0.0, name: $0.1, blockSize: $0.2, typeSize: $0.3)) })
    }()

    /// The type with this id, or `nil` for an id ggml does not define.
    public init?(rawValue: UInt32) {
        guard let t = Self.table[rawValue] else { return nil }
        self = t
    }

    private init(rawValue: UInt32, name: String, blockSize: Int, typeSize: Int) {
        self.rawValue = rawValue; self.name = name; self.blockSize = blockSize; self.typeSize = typeSize
    }

    public static let f32 = GGMLType(rawValue: 0)!, f16 = GGMLType(rawValue: 1)!, bf16 = GGMLType(rawValue: 30)!
    public static let q4_0 = GGMLType(rawValue: 2)!, q4_1 = GGMLType(rawValue: 3)!, q5_0 = GGMLType(rawValue: 6)!
    public static let q5_1 = GGMLType(rawValue: 7)!, q8_0 = GGMLType(rawValue: 8)!
    public static let q2_K = GGMLType(rawValue: 10)!, q3_K = GGMLType(rawValue: 11)!, q4_K = GGMLType(rawValue: 12)!
    public static let q5_K = GGMLType(rawValue: 13)!, q6_K = GGMLType(rawValue: 14)!

    /// The types Verdict dequantizes to `Float`.
    public static let dequantizable: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    public var isDequantizable: Bool { Self.dequantizable.contains(self) }

    public var description: String { name }

    /// The stored element type when it is a plain float type (`DType` of a checkpoint), else `nil`.
    var plainFloatDType: DType? {
        switch rawValue {
        case 0: return .float32
        case 1: return .float16
        case 30: return .bfloat16
        default: return nil
        }
    }
}

/// Block decoders with exactly gguf-py's arithmetic (`gguf.quants.*.dequantize_blocks`): float16
/// scales are widened to `Float` first and every step is one `Float` operation in the same order
/// (`d * q + m` is a product then a sum; Swift never fuses them), so the results are bit-identical
/// to `gguf.dequantize` and therefore to `transformers`' GGUF loader.
enum GGMLDequantizer {
    /// Every float16 bit pattern widened to `Float` (exact, NaN payloads kept, as numpy does).
    static let halfTable: [Float] = {
        let bits = (0...0xFFFF).map { UInt16($0) }
        var out = [Float](repeating: 0, count: bits.count)
        Kernels.float16ToFloat(bits, &out, count: bits.count)
        return out
    }()

    /// Decodes `blocks` consecutive blocks of `type` from `src` into `dst` (`blocks * type.blockSize` values).
    static func decode(_ type: GGMLType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        halfTable.withUnsafeBufferPointer { h in
            let half = h.baseAddress!
            switch type.rawValue {
            case 0: memcpy(dst, src, blocks * 4)
            case 1: for i in 0..<blocks { dst[i] = half[Int(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian)] }
            case 30:
                for i in 0..<blocks {
                    dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                }
            case 2: q4_0(src, dst, blocks, half)
            case 3: q4_1(src, dst, blocks, half)
            case 6: q5_0(src, dst, blocks, half)
            case 7: q5_1(src, dst, blocks, half)
            case 8: q8_0(src, dst, blocks, half)
            case 10: q2_K(src, dst, blocks, half)
            case 11: q3_K(src, dst, blocks, half)
            case 12: q4_K(src, dst, blocks, half)
            case 13: q5_K(src, dst, blocks, half)
            case 14: q6_K(src, dst, blocks, half)
            default: preconditionFailure("GGMLDequantizer.decode: \(type.name) is not dequantizable (callers check isDequantizable)")
            }
        }
    }

    @inline(__always)
    private static func f16(_ p: UnsafePointer<UInt8>, _ offset: Int, _ half: UnsafePointer<Float>) -> Float {
        half[Int(p[offset]) | Int(p[offset + 1]) << 8]
    }

    /// Q4_0 (18 bytes / 32): d f16, qs[16]; x[k] = d * (lo(qs[k]) - 8), x[16 + k] = d * (hi(qs[k]) - 8).
    private static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 18 * b, o = dst + 32 * b
            let d = f16(p, 0, half)
            for k in 0..<16 {
                let q = p[2 + k]
                o[k] = d * Float(Int32(q & 15) - 8)
                o[16 + k] = d * Float(Int32(q >> 4) - 8)
            }
        }
    }

    /// Q4_1 (20 bytes / 32): d f16, m f16, qs[16]; x = d * q + m.
    private static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 20 * b, o = dst + 32 * b
            let d = f16(p, 0, half), m = f16(p, 2, half)
            for k in 0..<16 {
                let q = p[4 + k]
                o[k] = d * Float(q & 15) + m
                o[16 + k] = d * Float(q >> 4) + m
            }
        }
    }

    /// Q5_0 (22 bytes / 32): d f16, qh u32, qs[16]; fifth bit of value k is bit k of qh; x = d * (q - 16).
    private static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 22 * b, o = dst + 32 * b
            let d = f16(p, 0, half)
            let qh = UInt32(p[2]) | UInt32(p[3]) << 8 | UInt32(p[4]) << 16 | UInt32(p[5]) << 24
            for k in 0..<16 {
                let q = p[6 + k]
                let lo = Int32(q & 15) | Int32((qh >> UInt32(k)) & 1) << 4
                let hi = Int32(q >> 4) | Int32((qh >> UInt32(16 + k)) & 1) << 4
                o[k] = d * Float(lo - 16)
                o[16 + k] = d * Float(hi - 16)
            }
        }
    }

    /// Q5_1 (24 bytes / 32): d f16, m f16, qh u32, qs[16]; x = d * q + m.
    private static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 24 * b, o = dst + 32 * b
            let d = f16(p, 0, half), m = f16(p, 2, half)
            let qh = UInt32(p[4]) | UInt32(p[5]) << 8 | UInt32(p[6]) << 16 | UInt32(p[7]) << 24
            for k in 0..<16 {
                let q = p[8 + k]
                let lo = UInt32(q & 15) | ((qh >> UInt32(k)) & 1) << 4
                let hi = UInt32(q >> 4) | ((qh >> UInt32(16 + k)) & 1) << 4
                o[k] = d * Float(lo) + m
                o[16 + k] = d * Float(hi) + m
            }
        }
    }

    /// Q8_0 (34 bytes / 32): d f16, qs int8[32]; x = q * d.
    private static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 34 * b, o = dst + 32 * b
            let d = f16(p, 0, half)
            for k in 0..<32 { o[k] = Float(Int8(bitPattern: p[2 + k])) * d }
        }
    }

    /// Q2_K (84 bytes / 256): scales[16] (low nibble scale, high nibble min), qs[64], d f16, dmin f16.
    /// Value i = 128h + 32s + l is (qs[32h + l] >> 2s) & 3; x = (d * sc) * q - (dmin * m) of sub-block i / 16.
    private static func q2_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 84 * b, o = dst + 256 * b
            let d = f16(p, 80, half), dmin = f16(p, 82, half)
            for h in 0..<2 {
                for sh in 0..<4 {
                    for l in 0..<32 {
                        let i = 128 * h + 32 * sh + l
                        let sc = p[i / 16]
                        let dl = d * Float(sc & 15), ml = dmin * Float(sc >> 4)
                        let q = (p[16 + 32 * h + l] >> UInt8(2 * sh)) & 3
                        o[i] = dl * Float(q) - ml
                    }
                }
            }
        }
    }

    /// Q3_K (110 bytes / 256): hmask[32], qs[64], scales[12] (16 six-bit scales), d f16.
    /// Value i = 128h + 32s + l: low bits (qs[32h + l] >> 2s) & 3; high bit (hmask[i % 32] >> (i / 32)) & 1,
    /// which *subtracts* 4 when clear; x = (d * (scale - 32)) * q.
    private static func q3_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        var dl = [Float](repeating: 0, count: 16)
        for b in 0..<blocks {
            let p = s + 110 * b, o = dst + 256 * b
            let d = f16(p, 108, half)
            for k in 0..<16 {
                let low = k < 8 ? p[96 + k] & 15 : p[96 + k - 8] >> 4
                let high = (p[104 + k % 4] >> UInt8(2 * (k / 4))) & 3
                dl[k] = d * Float(Int8(bitPattern: low | high << 4) &- 32)
            }
            for h in 0..<2 {
                for sh in 0..<4 {
                    for l in 0..<32 {
                        let i = 128 * h + 32 * sh + l
                        let ql = Int8((p[32 + 32 * h + l] >> UInt8(2 * sh)) & 3)
                        let qh = ((p[i % 32] >> UInt8(i / 32)) & 1) ^ 1
                        o[i] = dl[i / 16] * Float(ql - Int8(qh << 2))
                    }
                }
            }
        }
    }

    /// The 6-bit scale and min of sub-block j of a Q4_K/Q5_K block's 12 scale bytes.
    @inline(__always)
    private static func scaleMin(_ sc: UnsafePointer<UInt8>, _ j: Int) -> (UInt8, UInt8) {
        if j < 4 { return (sc[j] & 63, sc[j + 4] & 63) }
        return ((sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4), (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4))
    }

    /// Q4_K (144 bytes / 256): d f16, dmin f16, scales[12], qs[128]; sub-block 2c / 2c + 1 are the low /
    /// high nibbles of qs[32c ..< 32c + 32]; x = (d * sc) * q - (dmin * m).
    private static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 144 * b, o = dst + 256 * b
            let d = f16(p, 0, half), dmin = f16(p, 2, half)
            for j in 0..<8 {
                let (sc, m) = scaleMin(p + 4, j)
                let ds = d * Float(sc), dm = dmin * Float(m)
                let q = p + 16 + 32 * (j / 2), shift = UInt8(4 * (j % 2))
                for l in 0..<32 { o[32 * j + l] = ds * Float((q[l] >> shift) & 15) - dm }
            }
        }
    }

    /// Q5_K (176 bytes / 256): d f16, dmin f16, scales[12], qh[32], qs[128]; as Q4_K with bit j of qh[l]
    /// as the fifth bit of value l of sub-block j.
    private static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 176 * b, o = dst + 256 * b
            let d = f16(p, 0, half), dmin = f16(p, 2, half)
            let qh = p + 16
            for j in 0..<8 {
                let (sc, m) = scaleMin(p + 4, j)
                let ds = d * Float(sc), dm = dmin * Float(m)
                let q = p + 48 + 32 * (j / 2), shift = UInt8(4 * (j % 2))
                for l in 0..<32 {
                    let v = ((q[l] >> shift) & 15) | ((qh[l] >> UInt8(j)) & 1) << 4
                    o[32 * j + l] = ds * Float(v) - dm
                }
            }
        }
    }

    /// Q6_K (210 bytes / 256): ql[128], qh[64], scales int8[16], d f16 (last). Halves h of 128 values:
    /// value 128h + 32g + l is (nibble of ql[64h + 32(g % 2) + l], low for g < 2) | ((qh[32h + l] >> 2g) & 3) << 4;
    /// x = (d * scales[i / 16]) * (q - 32).
    private static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ blocks: Int, _ half: UnsafePointer<Float>) {
        let s = src.assumingMemoryBound(to: UInt8.self)
        for b in 0..<blocks {
            let p = s + 210 * b, o = dst + 256 * b
            let d = f16(p, 208, half)
            for h in 0..<2 {
                let ql = p + 64 * h, qh = p + 128 + 32 * h
                for g in 0..<4 {
                    let i0 = 128 * h + 32 * g
                    let lowBits = ql + 32 * (g % 2), shift = UInt8(g < 2 ? 0 : 4)
                    for l in 0..<32 {
                        let i = i0 + l
                        let sc = d * Float(Int8(bitPattern: p[192 + i / 16]))
                        let q = Int8(bitPattern: ((lowBits[l] >> shift) & 15) | ((qh[l] >> UInt8(2 * g)) & 3) << 4) - 32
                        o[i] = sc * Float(q)
                    }
                }
            }
        }
    }
}
