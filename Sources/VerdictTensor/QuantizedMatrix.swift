import VerdictParallel
import CVerdictKernels

/// A `Linear` weight quantised to int8 for dynamic-quantisation inference, packed once into the
/// panel layout the int8 matrix multiply reads.
///
/// Each output channel `n` has its own scale: `weight[n, k] ≈ scale[n] * q[n, k]` with `q` in
/// `-maxQuantizedMagnitude ... maxQuantizedMagnitude` (7 bits, so the AVX2 kernel never saturates
/// and every kernel path sums the same integers). At each call the activations are quantised per
/// row to unsigned 8 bits with their own scale and zero point (`Ops.linear(_:quantizedWeight:bias:)`).
///
/// Unchecked Sendable: its packed memory is written once in `init` and only read afterwards.
package final class QuantizedMatrix: @unchecked Sendable {
    /// The largest magnitude of a quantised weight (63).
    package static let maxQuantizedMagnitude = Int(VK_QWEIGHT_MAX)

    /// Output features (rows of the `Linear` weight).
    package let columns: Int
    /// Input features.
    package let depth: Int
    /// The scale of each output channel.
    package let scales: [Float]
    let columnSums: [Int32]
    let storage: UnsafeMutableRawPointer

    /// Quantises a PyTorch `Linear` weight (`[outFeatures, inFeatures]`) per output channel.
    package convenience init(linearWeight weight: Tensor) {
        precondition(weight.rank == 2, "QuantizedMatrix: a Linear weight is 2-D, got \(weight.shape)")
        let (n, k) = (weight.shape[0], weight.shape[1])
        var q = [Int8](repeating: 0, count: n * k), scales = [Float](repeating: 1, count: n)
        weight.scalars.withUnsafeBufferPointer { w in
            q.withUnsafeMutableBufferPointer { qp in
                scales.withUnsafeMutableBufferPointer { sp in
                    if let wb = w.baseAddress, let qb = qp.baseAddress, let sb = sp.baseAddress { vk_quantize_weights(wb, n, k, qb, sb) }
                }
            }
        }
        // The values were just clamped to the range, so packing cannot refuse them.
        self.init(uncheckedQuantized: q, scales: scales, columns: n, depth: k)
    }

    /// Packs an already quantised `[columns, depth]` weight (row-major int8, as a quantised
    /// checkpoint stores it) with its per-channel scales. Returns nil when the sizes disagree, a
    /// value lies outside `±maxQuantizedMagnitude`, or a scale is not a positive finite number.
    package convenience init?(quantized q: [Int8], scales: [Float], columns: Int, depth: Int) {
        guard columns > 0, depth > 0, q.count == columns * depth, scales.count == columns,
              scales.allSatisfy({ $0.isFinite && $0 > 0 }),
              q.allSatisfy({ Int($0).magnitude <= QuantizedMatrix.maxQuantizedMagnitude }) else { return nil }
        self.init(uncheckedQuantized: q, scales: scales, columns: columns, depth: depth)
    }

    private init(uncheckedQuantized q: [Int8], scales: [Float], columns: Int, depth: Int) {
        self.columns = columns
        self.depth = depth
        self.scales = scales + [Float](repeating: 1, count: (columns + 15) / 16 * 16 - columns)
        let bytes = max(64, vk_qpacked_b_bytes(columns, depth))
        storage = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        var sums = [Int32](repeating: 0, count: (columns + 15) / 16 * 16)
        let packed = storage.bindMemory(to: Int8.self, capacity: bytes)
        q.withUnsafeBufferPointer { qp in
            sums.withUnsafeMutableBufferPointer { sp in
                if let qb = qp.baseAddress, let sb = sp.baseAddress { Kernels.check(vk_qpack_b(columns, depth, qb, packed, sb), "vk_qpack_b") }
            }
        }
        columnSums = sums
    }

    /// The quantised weight, `[columns, depth]` row-major (what a quantised checkpoint stores).
    package func quantizedWeight() -> [Int8] {
        var q = [Int8](repeating: 0, count: columns * depth)
        q.withUnsafeMutableBufferPointer { qp in
            if let qb = qp.baseAddress { vk_qunpack_b(columns, depth, storage.assumingMemoryBound(to: Int8.self), qb) }
        }
        return q
    }

    /// The weight this matrix computes with, `scale[n] * q[n, k]`, as a `[columns, depth]` tensor.
    package func dequantizedLinearWeight() -> Tensor {
        let q = quantizedWeight()
        return Tensor(shape: [columns, depth]) { out in
            for n in 0..<columns { for k in 0..<depth { out[n * depth + k] = scales[n] * Float(q[n * depth + k]) } }
        }
    }

    /// Bytes of the packed weight, scales and column sums.
    package var byteCount: Int { vk_qpacked_b_bytes(columns, depth) + scales.count * 8 }

    deinit { storage.deallocate() }
}

extension Ops {
    /// `x · weightᵀ + bias` with an int8 weight: each row of `x` is quantised to 8 bits (its own
    /// scale and zero point), multiplied in integers and scaled back. Rows (or column panels, when
    /// there are few rows) are split across `Parallel.threadCount` threads.
    package static func linear(_ x: Tensor, quantizedWeight w: QuantizedMatrix, bias: Tensor?) -> Tensor {
        let k = w.depth, n = w.columns
        precondition(x.shape[x.rank - 1] == k, "linear: input width \(x.shape) vs \(k) input features")
        let rows = x.count / k, stride = vk_qdepth(k)
        var q = [UInt8](repeating: 0, count: max(1, rows * stride))
        var rowScales = [Float](repeating: 1, count: max(1, rows)), zeros = [Int32](repeating: 0, count: max(1, rows))
        let y = Tensor(shape: Array(x.shape.dropLast()) + [n]) { out in
            guard let yp = out.baseAddress else { return }
            x.scalars.withUnsafeBufferPointer { xb in
                q.withUnsafeMutableBufferPointer { qb in
                    rowScales.withUnsafeMutableBufferPointer { sb in
                        zeros.withUnsafeMutableBufferPointer { zb in
                            guard let xp = xb.baseAddress, let qp = qb.baseAddress, let sp = sb.baseAddress, let zp = zb.baseAddress else { return }
                            let parallel = rows * k >= 64 * 1024
                            if parallel {
                                Parallel.chunks(rows, granularity: 4) { r in
                                    vk_quantize_rows(xp + r.lowerBound * k, r.count, k, k, qp + r.lowerBound * stride, stride,
                                                     sp + r.lowerBound, zp + r.lowerBound)
                                }
                            } else {
                                vk_quantize_rows(xp, rows, k, k, qp, stride, sp, zp)
                            }
                            let bias = bias?.scalars
                            w.scales.withUnsafeBufferPointer { ws in
                                w.columnSums.withUnsafeBufferPointer { cs in
                                    withOptionalPointer(bias) { bp in
                                        let packed = w.storage.assumingMemoryBound(to: Int8.self)
                                        let vnni = vk_uses_avx512vnni() != 0   // 8 x 32 tiles instead of 4 x 16
                                        forEachGemmPart(m: rows, n: n, k: k, parallel: true, rowGranularity: vnni ? 8 : 4, columnGranularity: vnni ? 32 : 16) { r, c in
                                            Kernels.check(vk_qgemm(r.count, c.count, k, qp + r.lowerBound * stride, stride, sp + r.lowerBound, zp + r.lowerBound,
                                                                   packed, cs.baseAddress, ws.baseAddress, bp, n, c.lowerBound,
                                                                   yp + r.lowerBound * n + c.lowerBound, n), "vk_qgemm")
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }
}

private func withOptionalPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let values else { return body(nil) }
    return values.withUnsafeBufferPointer { body($0.baseAddress) }
}
