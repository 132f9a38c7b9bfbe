import VerdictParallel
import CVerdictKernels
import Foundation

/// Matrix multiply on raw row-major buffers: `C = alpha * op(A) * op(B) + beta * C + bias`
/// (`bias`, when given, is one value per column added to every row; with `beta` 0, `C` is only written).
///
/// `op(A)` is `[m, k]` (stored `[k, m]` when `transposeA`), `op(B)` is `[k, n]` (stored `[n, k]`,
/// the layout of a PyTorch `Linear` weight, when `transposeB`). With `parallel`, rows (or columns,
/// when there are few rows) are split across `Parallel.threadCount` threads; when rows are split,
/// the threads pack `B` once together instead of each packing all of it.
@inline(__always)
package func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, bias: UnsafePointer<Float>? = nil, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true) {
    let ta: Int32 = transposeA ? 1 : 0, tb: Int32 = transposeB ? 1 : 0
    // Enough rows for every thread: the threads pack B once together, then share the rows.
    if parallel, Parallel.threadCount > 1, m * n * k >= 64 * 64 * 64, m >= 6 * Parallel.threadCount * 4 {
        let status = vk_sgemm_parallel(Int32(Parallel.threadCount), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, bias, c, ldc)
        if status == 1 { return }
        if status < 0 { Kernels.failed(status, "vk_sgemm_parallel") }
    }
    var beta = beta
    if let bias {
        // C = beta · C + bias first, then the product accumulates: the order of the packed path.
        for r in 0..<m {
            let row = c + r * ldc
            if beta == 0 { row.update(from: bias, count: n) } else { for j in 0..<n { row[j] = beta * row[j] + bias[j] } }
        }
        beta = 1
    }
    forEachGemmPart(m: m, n: n, k: k, parallel: parallel) { rows, columns in
        let aStart = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
        let bStart = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
        Kernels.check(vk_sgemm(ta, tb, rows.count, columns.count, k, alpha, aStart, lda, bStart, ldb, beta,
                               c + rows.lowerBound * ldc + columns.lowerBound, ldc), "vk_sgemm")
    }
}

/// How a `[m, k] · [k, n]` multiply is shared by the threads: not at all when small, by row
/// blocks (multiples of the micro-tile's rows: 6 for fp32, 4 for int8) when there are enough rows,
/// else by column blocks (multiples of the 16-column panel). `body` gets each part's rows and columns.
@inline(__always)
func forEachGemmPart(m: Int, n: Int, k: Int, parallel: Bool, rowGranularity: Int? = nil, columnGranularity: Int? = nil,
                     _ body: (Range<Int>, Range<Int>) -> Void) {
    // Whole register tiles of the kernel in use: 6 x 16 (AVX2, portable) or 12 x 32 (AVX-512).
    let wide = vk_uses_avx512() != 0
    let rowGranularity = rowGranularity ?? (wide ? 12 : 6), columnGranularity = columnGranularity ?? (wide ? 32 : 16)
    if !parallel || Parallel.threadCount == 1 || m * n * k < 64 * 64 * 64 {
        body(0..<m, 0..<n)
    } else if m >= rowGranularity * Parallel.threadCount * 4 {
        Parallel.chunks(m, granularity: rowGranularity) { body($0, 0..<n) }
    } else {
        Parallel.chunks(n, granularity: columnGranularity) { body(0..<m, $0) }
    }
}

/// Scaled dot-product attention of one sequence and head, for inference, on raw row-major
/// buffers: `out[i] = Σ_j softmax_j(scale · q_i · k_j) · v_j` over the keys query `i` may see (all;
/// `j <= i` when `causal`; `|i − j| <= window` when a window is given). `q`, `k`, `v`, `out` are
/// `[length, headDim]` with the given row strides. Single-threaded; holds a few rows of scores at
/// a time, never the `[length, length]` matrix.
@inline(__always)
package func attention(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
                      out: UnsafeMutablePointer<Float>, ldo: Int, length: Int, headDim: Int, scale: Float, causal: Bool, window: Int?) {
    Kernels.check(vk_attention(q, ldq, k, ldk, v, ldv, out, ldo, length, headDim, scale, causal ? 1 : 0, window ?? -1), "vk_attention")
}

/// `attention` for `queryCount` queries only, those at positions `firstQueryPosition ..<
/// firstQueryPosition + queryCount` of the `length` keys; `q` and `out` hold just those rows. Each
/// row comes out bit for bit as the full call computes it.
@inline(__always)
package func attention(q: UnsafePointer<Float>, ldq: Int, queryCount: Int, firstQueryPosition: Int,
                      k: UnsafePointer<Float>, ldk: Int, v: UnsafePointer<Float>, ldv: Int,
                      out: UnsafeMutablePointer<Float>, ldo: Int, length: Int, headDim: Int, scale: Float, causal: Bool, window: Int?) {
    Kernels.check(vk_attention_queries(q, ldq, queryCount, firstQueryPosition, k, ldk, v, ldv, out, ldo, length, headDim, scale,
                                       causal ? 1 : 0, window ?? -1), "vk_attention_queries")
}

/// Runs the kernel path's peak arithmetic loop on the calling thread (fp32 FMA chains, or with
/// `int8` the u8 × s8 dot products of the int8 multiply) and returns the operations it did: the
/// ceiling `verdict bench-kernels` measures the multiplies against.
package func runPeakLoop(int8: Bool, iterations: Int) -> Double {
    var sink: Float = 0
    return vk_peak_loop(int8 ? 1 : 0, iterations, &sink)
}

/// A set of numeric kernels, each path a superset of the one before: the portable C twins, the
/// AVX2+FMA kernels, and the AVX-512 ones (F, BW, DQ, VL; the int8 multiply with VNNI where the
/// CPU has it). Every path gives the results the parity tests bound (docs/Performance.md).
public enum KernelPath: Int, CaseIterable, Comparable, Sendable, CustomStringConvertible {
    case portable, avx2, avx512

    /// The widest path this CPU runs, capped by `VERDICT_KERNELS=portable|avx2|avx512`.
    public static var best: KernelPath { KernelPath(rawValue: Int(vk_best_kernel_path())) ?? .portable }

    /// Throws when `VERDICT_KERNELS` is set to something other than `portable`, `avx2` or
    /// `avx512` (the kernels then run the portable path); models check it as they load.
    public static func checkSetting() throws(KernelSettingError) {
        guard vk_kernel_setting_is_valid() == 0 else { return }
        throw KernelSettingError(value: ProcessInfo.processInfo.environment["VERDICT_KERNELS"] ?? "")
    }

    /// The path in use now: `best`, unless a narrower one was forced.
    public static var current: KernelPath { KernelPath(rawValue: Int(vk_kernel_path())) ?? .portable }

    /// The paths this CPU can run, narrowest first (what parity tests iterate over).
    public static var available: [KernelPath] { allCases.filter { $0 <= best } }

    /// Forces `path` (at most `best`; for tests and comparisons), or restores `best` with nil.
    package static func force(_ path: KernelPath?) { vk_force_kernel_path(path.map { Int32($0.rawValue) } ?? -1) }

    public static func < (a: KernelPath, b: KernelPath) -> Bool { a.rawValue < b.rawValue }

    public var description: String { ["portable", "avx2+fma", "avx512"][rawValue] }
}

/// A matrix packed once into the panel layout the matrix multiply reads, for a right-hand operand
/// that is used many times unchanged: a model's `Linear` weights at inference. Packing a weight on
/// every call costs as much as the multiply itself when there are few rows (one short sentence).
/// The panels hold `Float`s, or bfloat16 values at half the memory (`Element.bfloat16`: each
/// weight rounded to nearest, widened exactly in registers and summed in `Float`).
///
/// Unchecked Sendable: its packed memory is written once in `init` and only read afterwards.
package final class PackedMatrix: @unchecked Sendable {
    /// The number format of the packed values.
    package enum Element: Sendable {
        case float32, bfloat16

        var byteCount: Int { self == .float32 ? 4 : 2 }
    }

    /// Columns of the packed operand (a `Linear` layer's output features).
    package let columns: Int
    /// Rows of the packed operand (input features).
    package let depth: Int
    /// The number format of the packed values.
    package let element: Element
    /// The K-block depth of the panels: the multiply's on the kernel path packing ran on
    /// (`vk_pack_depth`), so that this multiply equals packing on the fly bit for bit on that path.
    let blockDepth: Int
    let storage: UnsafeMutableRawPointer

    /// Packs a PyTorch `Linear` weight (`[outFeatures, inFeatures]`) as the operand of `x · weightᵀ`.
    package init(linearWeight weight: Tensor, element: Element = .float32) {
        precondition(weight.rank == 2, "PackedMatrix: a Linear weight is 2-D, got \(weight.shape)")
        columns = weight.shape[0]; depth = weight.shape[1]
        self.element = element
        blockDepth = vk_pack_depth()
        let count = max(1, vk_packed_b_count(columns, depth))
        storage = UnsafeMutableRawPointer.allocate(byteCount: count * element.byteCount, alignment: 64)
        switch element {
        case .float32: storage.bindMemory(to: Float.self, capacity: count)
        case .bfloat16: storage.bindMemory(to: UInt16.self, capacity: count)
        }
        weight.scalars.withUnsafeBufferPointer { w in
            guard let base = w.baseAddress else { return }
            switch element {
            case .float32: vk_pack_b(1, columns, depth, base, depth, blockDepth, storage.assumingMemoryBound(to: Float.self))
            case .bfloat16: vk_pack_b_bf16(1, columns, depth, base, depth, blockDepth, storage.assumingMemoryBound(to: UInt16.self))
            }
        }
    }

    /// The `Linear` weight this was packed from, `[columns, depth]`: exactly, or rounded to bfloat16.
    package func unpackedLinearWeight() -> Tensor {
        Tensor(shape: [columns, depth]) { out in
            guard let base = out.baseAddress else { return }
            switch element {
            case .float32: vk_unpack_b(columns, depth, blockDepth, storage.assumingMemoryBound(to: Float.self), base)
            case .bfloat16: vk_unpack_b_bf16(columns, depth, blockDepth, storage.assumingMemoryBound(to: UInt16.self), base)
            }
        }
    }

    /// Bytes the packed values take.
    package var byteCount: Int { max(1, vk_packed_b_count(columns, depth)) * element.byteCount }

    deinit { storage.deallocate() }
}

/// `C = A · B + beta * C + bias` with `B` pre-packed (`A` is `[m, b.depth]` row-major; `bias`, when
/// given, has `b.columns` values added to every row). With `beta` 0, `C` is only written. Splits
/// rows, or column panels when there are few rows, across `Parallel.threadCount` threads like `gemm`.
package func gemm(m: Int, a: UnsafePointer<Float>, lda: Int, packed b: PackedMatrix,
                 beta: Float = 0, bias: UnsafePointer<Float>? = nil, c: UnsafeMutablePointer<Float>, ldc: Int) {
    forEachGemmPart(m: m, n: b.columns, k: b.depth, parallel: true) { rows, columns in
        let a = a + rows.lowerBound * lda, c = c + rows.lowerBound * ldc + columns.lowerBound
        switch b.element {
        case .float32:
            Kernels.check(vk_sgemm_packed(0, rows.count, columns.count, b.depth, 1, a, lda, b.storage.assumingMemoryBound(to: Float.self),
                                          b.columns, columns.lowerBound, b.blockDepth, beta, bias, c, ldc), "vk_sgemm_packed")
        case .bfloat16:
            Kernels.check(vk_sgemm_packed_bf16(0, rows.count, columns.count, b.depth, 1, a, lda, b.storage.assumingMemoryBound(to: UInt16.self),
                                               b.columns, columns.lowerBound, b.blockDepth, beta, bias, c, ldc), "vk_sgemm_packed_bf16")
        }
    }
}

/// `VERDICT_KERNELS` names no kernel path.
public struct KernelSettingError: Error, CustomStringConvertible {
    /// The variable's value.
    public let value: String
    public var description: String {
        "VERDICT_KERNELS=\(value) names no kernel path: use portable, avx2 or avx512 (a cap on what the CPU runs), or unset it"
    }
}
