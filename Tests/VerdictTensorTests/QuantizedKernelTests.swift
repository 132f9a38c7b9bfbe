import XCTest
@testable import VerdictTensor

/// The int8 matrix multiply (`QuantizedMatrix`, `Ops.linear(_:quantizedWeight:bias:)`): every path
/// bit for bit equal to the step-by-step reference, and within the quantisation error of fp32.
final class QuantizedKernelTests: XCTestCase {
    private var generator = SeededGenerator(seed: 11)

    private func random(_ shape: [Int], _ range: ClosedRange<Float> = -2...2) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float.random(in: range, using: &generator) })
    }

    /// Shapes: one row, row remainders of the 4-row tile, column remainders of the 16-column panel,
    /// K not a multiple of 4, K = 1, and BERT sizes split across threads by rows and by columns.
    private let shapes = [(1, 1, 1), (3, 17, 5), (5, 16, 4), (9, 33, 7), (1, 384, 384), (7, 1536, 384), (70, 64, 1536), (64, 40, 1000)]

    func testEveryPathEqualsTheReferenceBitForBit() {
        for path in KernelPath.available {
            KernelPath.force(path)
            defer { KernelPath.force(nil) }
            for (rows, out, inFeatures) in shapes {
                // Skewed activations (a GELU output's shape) and an all-zero row exercise the zero point.
                var x = random([rows, inFeatures], -0.3...4)
                if rows > 2 { for k in 0..<inFeatures { x.scalars[inFeatures + k] = 0 } }
                let w = random([out, inFeatures]), bias = random([out])
                let matrix = QuantizedMatrix(linearWeight: w)
                for b in [bias, nil] {
                    let want = ReferenceOps.quantizedLinear(x, quantized: matrix.quantizedWeight(), scales: Array(matrix.scales.prefix(out)), bias: b)
                    XCTAssertEqual(Ops.linear(x, quantizedWeight: matrix, bias: b).scalars, want.scalars,
                                   "\(rows)x\(out)x\(inFeatures) path \(path) bias \(b != nil)")
                }
            }
        }
        print("int8 kernel paths that ran: \(KernelPath.available.map { $0 == .avx512 ? KernelInfo.path : $0.description }.joined(separator: ", "))"
              + (KernelPath.best < .avx512 ? " (skipped avx512 and its VNNI kernel: CPU lacks avx512f/bw/dq/vl)" : "")
              + (KernelPath.best == .avx512 && !KernelInfo.path.contains("vnni") ? " (skipped the VNNI kernel: CPU lacks avx512vnni)" : ""))
    }

    /// Against the fp32 product: each output is off by at most the rounding of both operands,
    /// Σ_k (|x_k| · s_w / 2 + |w_k| · s_x / 2 + s_x · s_w / 4), and typically far less.
    func testWithinQuantisationErrorOfFloat() {
        for (rows, out, inFeatures) in shapes {
            let x = random([rows, inFeatures]), w = random([out, inFeatures])
            let matrix = QuantizedMatrix(linearWeight: w)
            let y = Ops.linear(x, quantizedWeight: matrix, bias: nil), exact = ReferenceOps.matmul(x, w, transposeB: true)
            for r in 0..<rows {
                let row = x.scalars[(r * inFeatures)..<((r + 1) * inFeatures)]
                let sx = (max(0, row.max()!) - min(0, row.min()!)) / 255
                for n in 0..<out {
                    let sw = matrix.scales[n]
                    var bound: Float = 0
                    for k in 0..<inFeatures { bound += abs(row[row.startIndex + k]) * sw / 2 + abs(w.scalars[n * inFeatures + k]) * sx / 2 + sx * sw / 4 }
                    XCTAssertLessThanOrEqual(abs(y.scalars[r * out + n] - exact.scalars[r * out + n]), bound * 1.001 + 1e-5)
                }
            }
            let relative = y.maxAbsDifference(exact) / exact.scalars.map(abs).max()!
            XCTAssertLessThan(relative, 0.05, "\(rows)x\(out)x\(inFeatures)")
        }
    }

    func testQuantisedWeightsRoundTripAndHostileValuesAreRefused() throws {
        let w = random([20, 9])
        let matrix = QuantizedMatrix(linearWeight: w)
        let q = matrix.quantizedWeight(), scales = Array(matrix.scales.prefix(20))
        XCTAssertEqual(q.map { Int($0).magnitude }.max(), UInt(QuantizedMatrix.maxQuantizedMagnitude), "each channel's largest weight uses the full range")
        let again = try XCTUnwrap(QuantizedMatrix(quantized: q, scales: scales, columns: 20, depth: 9))
        XCTAssertEqual(again.quantizedWeight(), q)
        XCTAssertEqual(again.dequantizedLinearWeight().scalars, matrix.dequantizedLinearWeight().scalars)
        XCTAssertLessThanOrEqual(matrix.dequantizedLinearWeight().maxAbsDifference(w), scales.max()! / 2 * 1.0001)
        // Quantising the dequantised weight gives the same integers (a model can be re-prepared).
        XCTAssertEqual(QuantizedMatrix(linearWeight: matrix.dequantizedLinearWeight()).quantizedWeight(), q)
        var outOfRange = q
        outOfRange[3] = 64
        XCTAssertNil(QuantizedMatrix(quantized: outOfRange, scales: scales, columns: 20, depth: 9))
        XCTAssertNil(QuantizedMatrix(quantized: q, scales: Array(scales.dropLast()), columns: 20, depth: 9))
        XCTAssertNil(QuantizedMatrix(quantized: q, scales: scales.map { _ in .nan }, columns: 20, depth: 9))
        XCTAssertNil(QuantizedMatrix(quantized: q, scales: scales, columns: 21, depth: 9))
    }
}
