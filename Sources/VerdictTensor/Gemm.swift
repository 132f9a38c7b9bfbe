import CVerdictKernels

/// Matrix multiply on raw row-major buffers: `C = alpha * op(A) * op(B) + beta * C`.
///
/// `op(A)` is `[m, k]` (stored `[k, m]` when `transposeA`), `op(B)` is `[k, n]` (stored `[n, k]`,
/// the layout of a PyTorch `Linear` weight, when `transposeB`). With `parallel`, rows (or columns,
/// when there are few rows) are split across `Parallel.threadCount` threads.
@inline(__always)
public func gemm(transposeA: Bool = false, transposeB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, parallel: Bool = true) {
    let ta: Int32 = transposeA ? 1 : 0, tb: Int32 = transposeB ? 1 : 0
    let work = m * n * k
    if !parallel || Parallel.threadCount == 1 || work < 64 * 64 * 64 {
        vk_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    if m >= 6 * Parallel.threadCount * 4 {
        Parallel.chunks(m, granularity: 6) { r in
            let aStart = transposeA ? a + r.lowerBound : a + r.lowerBound * lda
            vk_sgemm(ta, tb, r.count, n, k, alpha, aStart, lda, b, ldb, beta, c + r.lowerBound * ldc, ldc)
        }
    } else {
        Parallel.chunks(n, granularity: 16) { r in
            let bStart = transposeB ? b + r.lowerBound * ldb : b + r.lowerBound
            vk_sgemm(ta, tb, m, r.count, k, alpha, a, lda, bStart, ldb, beta, c + r.lowerBound, ldc)
        }
    }
}

/// Whether the AVX2+FMA kernels are in use on this CPU.
public var kernelsUseAVX2: Bool { vk_uses_avx2() != 0 }

/// Forces the portable C kernels (`true`) or restores run-time detection (`false`). For tests.
public func forcePortableKernels(_ portable: Bool) { vk_force_portable(portable ? 1 : 0) }
