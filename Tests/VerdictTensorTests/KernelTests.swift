import CVerdictKernels
import XCTest
@testable import VerdictTensor

/// The fast kernels (AVX2 and portable paths) against the plain double-precision reference.
final class KernelTests: XCTestCase {
    private var generator = SeededGenerator(seed: 7)

    private func random(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: -2...2, using: &generator) })
    }

    /// Runs `body` on every kernel path this CPU has (portable, AVX2, AVX-512), printing those it lacks.
    private func everyPath(_ body: () throws -> Void) rethrows {
        for path in KernelPath.available {
            KernelPath.force(path)
            defer { KernelPath.force(nil) }
            try body()
        }
        if KernelPath.best < .avx512 { print("skipped the avx512 path: CPU lacks avx512f/bw/dq/vl") }
    }

    func testGemmAllTransposesAndEdgeSizes() {
        everyPath {
            for (m, n, k) in [(1, 1, 1), (7, 17, 5), (6, 16, 256), (73, 300, 257), (130, 33, 600)] {
                for ta in [false, true] {
                    for tb in [false, true] {
                        let a = random(ta ? [k, m] : [m, k]), b = random(tb ? [n, k] : [k, n])
                        let expected = ReferenceOps.matmul(a, b, transposeA: ta, transposeB: tb)
                        var c = random([m, n])
                        let c0 = c
                        a.scalars.withUnsafeBufferPointer { ap in
                            b.scalars.withUnsafeBufferPointer { bp in
                                c.scalars.withUnsafeMutableBufferPointer { cp in
                                    gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!, lda: ta ? m : k,
                                         b: bp.baseAddress!, ldb: tb ? k : n, beta: 2, c: cp.baseAddress!, ldc: n)
                                }
                            }
                        }
                        let want = Tensor(shape: [m, n], scalars: zip(expected.scalars, c0.scalars).map { 0.5 * $0 + 2 * $1 })
                        XCTAssertLessThan(c.maxAbsDifference(want), 1e-3 * Float(k).squareRoot(), "m \(m) n \(n) k \(k) ta \(ta) tb \(tb)")
                    }
                }
            }
        }
    }

    /// The multiply on every path against the portable twin: within 1e-5 of the largest output
    /// (relative), at sizes that mix whole wide tiles with row, column and K remainders, with and
    /// without a bias. Where K fits one block of both paths (<= 256) the AVX-512 tiles give the AVX2
    /// 6 x 16 tile's result bit for bit (each sum in the same order); deeper K blocks (768 on AVX-512)
    /// round the partial sums differently.
    func testEveryPathAgainstThePortableTwin() {
        var results: [KernelPath: [[Float]]] = [:]
        // Whole 12 x 32 tiles with remainders, and 1-11 rows (one short sentence's tile variants).
        let shapes = [(12, 32, 7), (25, 70, 300), (100, 768, 384), (37, 3072, 257),
                      (1, 64, 300), (2, 32, 9), (3, 96, 40), (5, 96, 257), (7, 64, 600), (9, 32, 40), (11, 96, 7)]
        let operands = shapes.map { m, n, k in (random([m, k]), random([n, k]), random([n])) }
        for path in KernelPath.available {
            KernelPath.force(path)
            defer { KernelPath.force(nil) }
            results[path] = operands.flatMap { x, w, b in
                [Ops.linear(x, weight: w, bias: b).scalars, Ops.linear(x, packedWeight: PackedMatrix(linearWeight: w), bias: nil).scalars]
            }
        }
        guard let portable = results[.portable] else { return XCTFail("no portable results") }
        for (path, outputs) in results {
            for (got, want) in zip(outputs, portable) {
                let scale = want.map(abs).max() ?? 1
                XCTAssertLessThan(zip(got, want).map { abs($0 - $1) }.max() ?? .infinity, 1e-5 * scale, "\(path)")
            }
        }
        if let avx2 = results[.avx2], let avx512 = results[.avx512] {
            for (index, (m, n, k)) in shapes.enumerated() where k <= 256 {
                XCTAssertEqual(avx512[2 * index], avx2[2 * index], "\(m)x\(n)x\(k)")
                XCTAssertEqual(avx512[2 * index + 1], avx2[2 * index + 1], "\(m)x\(n)x\(k) packed")
            }
        }
        print("gemm paths compared: \(KernelPath.available.map(\.description).joined(separator: ", "))"
              + (KernelPath.best < .avx512 ? " (skipped avx512: CPU lacks avx512f/bw/dq/vl)" : ""))
    }

    /// Attention for a few query rows gives exactly those rows of the full call, with and without
    /// a causal mask and a window, on both paths.
    func testAttentionForSelectedQueriesEqualsTheFullCallsRows() {
        everyPath {
            let l = 37, d = 64
            let q = random([l, d]), k = random([l, d]), v = random([l, d])
            for (causal, window) in [(false, nil), (true, nil), (false, 5), (true, 9)] as [(Bool, Int?)] {
                var full = Tensor(shape: [l, d])
                q.scalars.withUnsafeBufferPointer { qp in k.scalars.withUnsafeBufferPointer { kp in v.scalars.withUnsafeBufferPointer { vp in
                    full.scalars.withUnsafeMutableBufferPointer { op in
                        attention(q: qp.baseAddress!, ldq: d, k: kp.baseAddress!, ldk: d, v: vp.baseAddress!, ldv: d, out: op.baseAddress!, ldo: d,
                                  length: l, headDim: d, scale: 0.125, causal: causal, window: window)
                    }
                }}}
                for (first, count) in [(0, 1), (36, 1), (17, 1), (3, 6), (30, 7)] {
                    XCTAssertEqual(attend(q, k, v, queries: first..<(first + count), scale: 0.125, causal: causal, window: window),
                                   Array(full.scalars[(first * d)..<((first + count) * d)]),
                                   "queries \(first)..<\(first + count), causal \(causal), window \(String(describing: window))")
                }
            }
        }
    }

    func testLinearWithPackedWeightEqualsUnpacked() {
        everyPath {
            // Few rows (column split across threads, edge panels), many rows (row split), K over one KC block.
            for (rows, out, inFeatures) in [(1, 1, 1), (3, 17, 5), (7, 384, 384), (10, 1536, 384), (150, 33, 600), (40, 40, 1000)] {
                let x = random([rows, inFeatures]), w = random([out, inFeatures]), bias = random([out])
                let packed = PackedMatrix(linearWeight: w)
                let want = ReferenceOps.matmul(x, w, transposeB: true)
                let withBias = Tensor(shape: [rows, out], scalars: want.scalars.enumerated().map { $1 + bias.scalars[$0 % out] })
                let tolerance = 1e-3 * Float(inFeatures).squareRoot()
                XCTAssertLessThan(Ops.linear(x, packedWeight: packed, bias: bias).maxAbsDifference(withBias), tolerance, "\(rows)x\(out)x\(inFeatures)")
                XCTAssertLessThan(Ops.linear(x, packedWeight: packed, bias: nil).maxAbsDifference(want), tolerance, "\(rows)x\(out)x\(inFeatures)")
                XCTAssertEqual(Ops.linear(x, packedWeight: packed, bias: bias).scalars, Ops.linear(x, weight: w, bias: bias).scalars,
                               "packing ahead of time must not change a single bit")
            }
        }
    }

    /// bfloat16 panels: each weight rounded to nearest (ties to even), then the very multiply of
    /// the `Float` path on the rounded weights, bit for bit.
    func testLinearWithBFloat16WeightIsTheFloatMultiplyByTheRoundedWeight() {
        let ulp = Float(1) / 128   // bfloat16 keeps 7 fraction bits
        let ties: [(Float, Float)] = [(1 + ulp / 2, 1), (1 + 3 * ulp / 2, 1 + 2 * ulp), (-(1 + 3 * ulp / 2), -(1 + 2 * ulp)),
                                      (1 + ulp / 2 + ulp / 64, 1 + ulp), (0, 0), (-0.0, -0.0), (.infinity, .infinity)]
        let exact = PackedMatrix(linearWeight: Tensor(shape: [ties.count, 1], scalars: ties.map(\.0)), element: .bfloat16)
        XCTAssertEqual(exact.unpackedLinearWeight().scalars, ties.map(\.1))
        XCTAssertTrue(PackedMatrix(linearWeight: Tensor(shape: [1, 1], scalars: [.nan]), element: .bfloat16).unpackedLinearWeight().scalars[0].isNaN)
        everyPath {
            for (rows, out, inFeatures) in [(1, 1, 1), (3, 17, 5), (7, 384, 384), (10, 1536, 384), (150, 33, 600), (40, 40, 1000)] {
                let x = random([rows, inFeatures]), w = random([out, inFeatures]), bias = random([out])
                let packed = PackedMatrix(linearWeight: w, element: .bfloat16)
                XCTAssertEqual(packed.byteCount * 2, PackedMatrix(linearWeight: w).byteCount)
                let rounded = packed.unpackedLinearWeight()
                for (r, v) in zip(rounded.scalars, w.scalars) {
                    XCTAssertLessThanOrEqual(abs(r - v), abs(v) * ulp / 2 * 1.0001, "\(v) → \(r)")
                    XCTAssertEqual(r.bitPattern & 0xffff, 0)
                }
                XCTAssertEqual(Ops.linear(x, packedWeight: packed, bias: bias).scalars, Ops.linear(x, weight: rounded, bias: bias).scalars,
                               "\(rows)x\(out)x\(inFeatures)")
            }
        }
    }

    func testLayerNormActivationsSoftmax() {
        everyPath {
            let x = random([37, 384]), gamma = random([384]), beta = random([384])
            XCTAssertLessThan(Ops.layerNorm(x, gamma: gamma, beta: beta, eps: 1e-12).0.maxAbsDifference(ReferenceOps.layerNorm(x, gamma: gamma, beta: beta, eps: 1e-12)), 1e-5)
            let wide = Tensor(shape: [5000], scalars: (0..<5000).map { Float($0 - 2500) / 250 })
            for act in [Activation.gelu, .geluTanh, .relu] {
                XCTAssertLessThan(Ops.activate(wide, act).maxAbsDifference(ReferenceOps.activate(wide, act)), 2e-6, "\(act)")
            }
            var s = random([9, 45])
            let expected = ReferenceOps.softmax(s)
            s.scalars.withUnsafeMutableBufferPointer { Ops.softmaxRows($0.baseAddress!, rows: 9, n: 45, rowStride: 45) }
            XCTAssertLessThan(s.maxAbsDifference(expected), 1e-6)
        }
    }

    /// RMSNorm against the double-precision reference, and its backward against finite differences.
    /// Every one of the 65,536 half values widens to the same float on both paths (F16C and
    /// the portable bit manipulation), NaNs to NaNs.
    func testHalfToFloatEveryValue() {
        let halves = (0...UInt16.max).map { $0 }
        var results: [[Float]] = []
        everyPath {
            var out = [Float](repeating: 0, count: halves.count)
            vk_f16_to_f32(halves, &out, halves.count)
            results.append(out)
        }
        for (a, b) in zip(results[0], results[1]) { XCTAssertTrue(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "\(a) vs \(b)") }
        XCTAssertEqual(results[1][0x3C00], 1); XCTAssertEqual(results[1][0x0001], Float(bitPattern: 0x33800000)); XCTAssertEqual(results[1][0xFC00], -.infinity)
    }

    /// The fused inference attention against the double-precision reference: head sizes of the
    /// families (32, 64, 80, 128 and an odd 20 that takes the portable path), lengths around the
    /// 4-row and 16-key tiles, causal, windowed and both.
    func testFusedAttention() {
        everyPath {
            for (l, d) in [(1, 32), (3, 64), (5, 20), (17, 32), (33, 80), (70, 128)] {
                for (causal, window) in [(false, nil), (true, nil), (false, 4), (true, 6)] as [(Bool, Int?)] {
                    let q = random([l, d]), k = random([l, d]), v = random([l, d])
                    var out = Tensor(shape: [l, d])
                    q.scalars.withUnsafeBufferPointer { qp in k.scalars.withUnsafeBufferPointer { kp in v.scalars.withUnsafeBufferPointer { vp in
                        out.scalars.withUnsafeMutableBufferPointer { op in
                            attention(q: qp.baseAddress!, ldq: d, k: kp.baseAddress!, ldk: d, v: vp.baseAddress!, ldv: d, out: op.baseAddress!, ldo: d,
                                      length: l, headDim: d, scale: 0.3, causal: causal, window: window)
                        }
                    }}}
                    let want = ReferenceOps.attention(q: q, k: k, v: v, scale: 0.3, causal: causal, window: window)
                    XCTAssertLessThan(out.maxAbsDifference(want), 2e-5, "l \(l) d \(d) causal \(causal) window \(String(describing: window))")
                }
            }
        }
    }

    /// The AVX-512 attention (blocks of 8 query rows, 32 keys and 32 output columns per tile, masked
    /// column tails) gives the AVX2 attention's bits: every score and output is summed in the same
    /// order. Lengths around both tile sizes, head sizes that are and are not multiples of 32,
    /// causal, windowed, and calls for a few queries (the pooled rows of a classifier).
    func testAttentionPathsGiveTheSameBits() throws {
        guard KernelPath.best >= .avx512 else { throw XCTSkip("CPU lacks avx512f/bw/dq/vl: only the AVX2 attention runs here") }
        for (l, d) in [(1, 32), (5, 64), (9, 80), (31, 32), (33, 64), (70, 128), (129, 96), (200, 8)] {
            let q = random([l, d]), k = random([l, d]), v = random([l, d])
            for (causal, window) in [(false, nil), (true, nil), (false, 7), (true, 12)] as [(Bool, Int?)] {
                for (first, count) in [(0, l), (l - 1, 1), (0, min(l, 6)), (l / 2, min(l - l / 2, 13))] {
                    let outputs = [KernelPath.avx2, .avx512].map { path in
                        KernelPath.force(path)
                        defer { KernelPath.force(nil) }
                        return attend(q, k, v, queries: first..<(first + count), scale: 0.2, causal: causal, window: window)
                    }
                    XCTAssertEqual(outputs[0], outputs[1], "l \(l) d \(d) causal \(causal) window \(String(describing: window)) queries \(first)..<\(first + count)")
                }
            }
        }
    }

    /// Fused attention output `[queries.count, d]` for `queries` of `q` `[l, d]` against all of `k` and `v`.
    private func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor, queries: Range<Int>, scale: Float, causal: Bool, window: Int?) -> [Float] {
        let l = q.shape[0], d = q.shape[1]
        var out = Tensor(shape: [queries.count, d])
        q.scalars.withUnsafeBufferPointer { qp in k.scalars.withUnsafeBufferPointer { kp in v.scalars.withUnsafeBufferPointer { vp in
            out.scalars.withUnsafeMutableBufferPointer { op in
                attention(q: qp.baseAddress! + queries.lowerBound * d, ldq: d, queryCount: queries.count, firstQueryPosition: queries.lowerBound,
                          k: kp.baseAddress!, ldk: d, v: vp.baseAddress!, ldv: d, out: op.baseAddress!, ldo: d,
                          length: l, headDim: d, scale: scale, causal: causal, window: window)
            }
        }}}
        return out.scalars
    }

    func testRMSNorm() {
        let x = random([37, 64]), gamma = random([64])
        XCTAssertLessThan(Ops.rmsNorm(x, gamma: gamma, eps: 1e-6).0.maxAbsDifference(ReferenceOps.rmsNorm(x, gamma: gamma, eps: 1e-6)), 1e-5)
        let small = random([3, 10]), g = random([10]), dy = random([3, 10])
        func loss(_ x: Tensor, _ g: Tensor) -> Double {
            zip(ReferenceOps.rmsNorm(x, gamma: g, eps: 1e-5).scalars, dy.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let (_, cache) = Ops.rmsNorm(small, gamma: g, eps: 1e-5)
        var dGamma = Tensor(shape: [10])
        let dx = Ops.rmsNormBackward(dy, input: small, gamma: g, cache: cache, dGamma: &dGamma)
        checkNormGradients(x: small, gamma: g, dx: dx, dGamma: dGamma, loss: loss)
    }

    /// `dx` and `dGamma` of a norm over `[3, 10]` inputs against central differences of `loss(x, γ)`.
    private func checkNormGradients(x: Tensor, gamma: Tensor, dx: Tensor, dGamma: Tensor, loss: (Tensor, Tensor) -> Double,
                                    file: StaticString = #filePath, line: UInt = #line) {
        let h: Float = 1e-2
        for i in [0, 7, 13, 29] {
            var xp = x, xm = x
            xp.scalars[i] += h; xm.scalars[i] -= h
            XCTAssertEqual(Double(dx.scalars[i]), (loss(xp, gamma) - loss(xm, gamma)) / Double(2 * h), accuracy: 2e-3, file: file, line: line)
        }
        for i in [0, 9] {
            var gp = gamma, gm = gamma
            gp.scalars[i] += h; gm.scalars[i] -= h
            XCTAssertEqual(Double(dGamma.scalars[i]), (loss(x, gp) - loss(x, gm)) / Double(2 * h), accuracy: 2e-3, file: file, line: line)
        }
    }

    /// Backward kernels against central finite differences of the reference forward.
    func testBackwardAgainstFiniteDifferences() {
        let x = random([3, 10]), gamma = random([10]), beta = random([10]), dy = random([3, 10])
        func loss(_ x: Tensor, _ g: Tensor) -> Double {
            let y = ReferenceOps.layerNorm(x, gamma: g, beta: beta, eps: 1e-5)
            return zip(y.scalars, dy.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let (_, cache) = Ops.layerNorm(x, gamma: gamma, beta: beta, eps: 1e-5)
        var dGamma = Tensor(shape: [10]), dBeta = Tensor(shape: [10])
        let dx = Ops.layerNormBackward(dy, input: x, gamma: gamma, cache: cache, dGamma: &dGamma, dBeta: &dBeta)
        checkNormGradients(x: x, gamma: gamma, dx: dx, dGamma: dGamma, loss: loss)
        let h: Float = 1e-2
        for act in [Activation.gelu, .geluTanh] {
            let v = random([64]), d = random([64])
            let g = Ops.activationBackward(d, input: v, act)
            for i in 0..<64 {
                var p = v, m = v
                p.scalars[i] += h; m.scalars[i] -= h
                let fd = (Double(ReferenceOps.activate(p, act).scalars[i]) - Double(ReferenceOps.activate(m, act).scalars[i])) / Double(2 * h)
                XCTAssertEqual(Double(g.scalars[i]), fd * Double(d.scalars[i]), accuracy: 2e-3, "\(act)")
            }
        }
    }
}

/// A small deterministic generator so tests do not depend on the system RNG.
typealias SeededGenerator = SplitMix64
