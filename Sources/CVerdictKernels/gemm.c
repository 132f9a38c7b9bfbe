// Packed, blocked single-precision matrix multiply (Goto/BLIS structure): B is packed into
// KC x 16 column panels, A into 6 x KC row panels, and a 6 x 16 register-tile micro-kernel
// (12 AVX2 accumulators) runs over them. Edges are computed into a scratch tile. The AVX-512 path
// reads the same panels two by two: a 12 x 32 tile (two A panels, two B panels, 24 of the 32 zmm
// registers as accumulators), each sum within a K block formed in the same order as the 6 x 16
// kernel's.
#include "CVerdictKernels.h"
#include "internal.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if VK_X86
#include <immintrin.h>
#endif

// K is cut into blocks of KC on the AVX2 and portable paths and of KC_WIDE on the AVX-512 path,
// whose 12 x 32 tile then reloads C a third as often (3-5 % on the training shapes, with Zen 4's
// 1 MB L2). A pre-packed B records the depth it was packed with (vk_pack_depth), so it stays
// valid, and bit for bit equal to packing on the fly, on the path it was packed on.
enum { MR = 6, NR = 16, KC = 256, KC_WIDE = 768, MC = 72, NC = 3072 };

long vk_pack_depth(void) { return vk_uses_avx512() ? KC_WIDE : KC; }


// Packing is a copy (times alpha for A), so the AVX2 versions below give the same bits as these.
static void pack_b_portable(int transB, const float *B, long ldb, long k0, long kc, long j0, long nc, float *dst) {
    for (long jp = 0; jp < nc; jp += NR) {
        long nr = nc - jp < NR ? nc - jp : NR;
        float *panel = dst + jp * kc;
        if (!transB) {
            for (long p = 0; p < kc; p++) {
                const float *src = B + (k0 + p) * ldb + j0 + jp;
                float *d = panel + p * NR;
                long j = 0;
                for (; j < nr; j++) d[j] = src[j];
                for (; j < NR; j++) d[j] = 0;
            }
        } else {
            for (long j = 0; j < NR; j++) {
                if (j < nr) {
                    const float *src = B + (j0 + jp + j) * ldb + k0;
                    for (long p = 0; p < kc; p++) panel[p * NR + j] = src[p];
                } else {
                    for (long p = 0; p < kc; p++) panel[p * NR + j] = 0;
                }
            }
        }
    }
}

static void pack_a_portable(int transA, const float *A, long lda, long i0, long mc, long k0, long kc, float alpha, float *dst) {
    for (long ip = 0; ip < mc; ip += MR) {
        long mr = mc - ip < MR ? mc - ip : MR;
        float *panel = dst + ip * kc;
        if (!transA) {
            for (long i = 0; i < MR; i++) {
                if (i < mr) {
                    const float *src = A + (i0 + ip + i) * lda + k0;
                    for (long p = 0; p < kc; p++) panel[p * MR + i] = alpha * src[p];
                } else {
                    for (long p = 0; p < kc; p++) panel[p * MR + i] = 0;
                }
            }
        } else {
            for (long p = 0; p < kc; p++) {
                const float *src = A + (k0 + p) * lda + i0 + ip;
                float *d = panel + p * MR;
                long i = 0;
                for (; i < mr; i++) d[i] = alpha * src[i];
                for (; i < MR; i++) d[i] = 0;
            }
        }
    }
}

#if VK_X86
// Rows r[0..7] of an 8 x 8 block become its columns.
VK_AVX2 static inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20); r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20); r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31); r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31); r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Full panels by vector loads and 8 x 8 transposes; a partial panel goes to the portable loop.
VK_AVX2 static void pack_b_avx2(int transB, const float *B, long ldb, long k0, long kc, long j0, long nc, float *dst) {
    long full = nc / NR * NR;
    for (long jp = 0; jp < full; jp += NR) {
        float *panel = dst + jp * kc;
        if (!transB) {
            for (long p = 0; p < kc; p++) {
                const float *src = B + (k0 + p) * ldb + j0 + jp;
                _mm256_store_ps(panel + p * NR, _mm256_loadu_ps(src));
                _mm256_store_ps(panel + p * NR + 8, _mm256_loadu_ps(src + 8));
            }
        } else {
            const float *src = B + (j0 + jp) * ldb + k0;
            long p = 0;
            for (; p + 8 <= kc; p += 8) {
                for (int half = 0; half < 2; half++) {
                    __m256 r[8];
                    for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(src + (half * 8 + j) * ldb + p);
                    transpose8(r);
                    for (int q = 0; q < 8; q++) _mm256_store_ps(panel + (p + q) * NR + half * 8, r[q]);
                }
            }
            for (; p < kc; p++)
                for (long j = 0; j < NR; j++) panel[p * NR + j] = src[j * ldb + p];
        }
    }
    if (full < nc) pack_b_portable(transB, B, ldb, k0, kc, j0 + full, nc - full, dst + full * kc);
}

VK_AVX2 static void pack_a_avx2(int transA, const float *A, long lda, long i0, long mc, long k0, long kc, float alpha, float *dst) {
    long full = mc / MR * MR;
    __m256 scale = _mm256_set1_ps(alpha);
    for (long ip = 0; ip < full; ip += MR) {
        float *panel = dst + ip * kc;
        if (!transA) {
            const float *src = A + (i0 + ip) * lda + k0;
            long p = 0;
            for (; p + 8 <= kc; p += 8) {
                __m256 r[8];
                for (int i = 0; i < MR; i++) r[i] = _mm256_mul_ps(scale, _mm256_loadu_ps(src + i * lda + p));
                r[6] = r[7] = _mm256_setzero_ps();
                transpose8(r);
                // Column q holds the 6 values of row p + q in its low lanes; the next store
                // overwrites the 2 zeros each full-width store leaves past them.
                float *d = panel + p * MR;
                for (int q = 0; q < 7; q++) _mm256_storeu_ps(d + q * MR, r[q]);
                __m128 low = _mm256_castps256_ps128(r[7]);
                _mm_storeu_ps(d + 7 * MR, low);
                _mm_storel_pi((__m64 *)(d + 7 * MR + 4), _mm256_extractf128_ps(r[7], 1));
            }
            for (; p < kc; p++)
                for (long i = 0; i < MR; i++) panel[p * MR + i] = alpha * src[i * lda + p];
        } else {
            __m128 scale4 = _mm_set1_ps(alpha);
            for (long p = 0; p < kc; p++) {
                const float *src = A + (k0 + p) * lda + i0 + ip;
                float *d = panel + p * MR;
                _mm_storeu_ps(d, _mm_mul_ps(scale4, _mm_loadu_ps(src)));
                d[4] = alpha * src[4];
                d[5] = alpha * src[5];
            }
        }
    }
    if (full < mc) pack_a_portable(transA, A, lda, i0 + full, mc - full, k0, kc, alpha, dst + full * kc);
}
#endif

static void pack_b(int transB, const float *B, long ldb, long k0, long kc, long j0, long nc, float *dst) {
#if VK_X86
    if (vk_uses_avx2()) { pack_b_avx2(transB, B, ldb, k0, kc, j0, nc, dst); return; }
#endif
    pack_b_portable(transB, B, ldb, k0, kc, j0, nc, dst);
}

static void pack_a(int transA, const float *A, long lda, long i0, long mc, long k0, long kc, float alpha, float *dst) {
#if VK_X86
    if (vk_uses_avx2()) { pack_a_avx2(transA, A, lda, i0, mc, k0, kc, alpha, dst); return; }
#endif
    pack_a_portable(transA, A, lda, i0, mc, k0, kc, alpha, dst);
}

// ---- bfloat16 B panels -----------------------------------------------------------------------
// A bf16 panel row holds the 16 columns' upper halves in the order c0-3, c8-11, c4-7, c12-15, so
// that interleaving zeros below them 128 bits at a time (unpacklo/hi) gives c0-7 and c8-15 as
// floats: one 32-byte load and two shuffles per row instead of two loads.
static inline long bf16_slot(long j) { return (j & 3) | ((j & 4) << 1) | ((j & 8) >> 1); }

// ---- Micro-kernels ---------------------------------------------------------------------------
// c[MR x NR] (row stride ldc) += a-panel * b-panel; with `first`, c = a-panel * b-panel + bias
// instead (c is not read; bias may be NULL). One body per instruction set, B_AT / LOAD_B reading
// the b-panel's floats or widening its bfloat16 values; the sums are the same either way.
#define VK_TILE_PORTABLE(B_AT)                                                                           \
    float acc[MR][NR];                                                                                   \
    memset(acc, 0, sizeof acc);                                                                          \
    for (long p = 0; p < kc; p++) {                                                                      \
        for (int i = 0; i < MR; i++) {                                                                   \
            float ai = a[p * MR + i];                                                                    \
            for (int j = 0; j < NR; j++) acc[i][j] += ai * B_AT(p, j);                                   \
        }                                                                                                \
    }                                                                                                    \
    for (int i = 0; i < MR; i++)                                                                         \
        for (int j = 0; j < NR; j++) c[i * ldc + j] = (first ? (bias ? bias[j] : 0.0f) : c[i * ldc + j]) + acc[i][j];

#define VK_FLOAT_AT(p, j) b[(p) * NR + (j)]
#define VK_BF16_AT(p, j) vk_bf16_widen(b[(p) * NR + bf16_slot(j)])

static void kernel_portable(long kc, const float *a, const void *bv, float *c, long ldc, int first, const float *bias) {
    const float *b = bv;
    VK_TILE_PORTABLE(VK_FLOAT_AT)
}

static void kernel_bf16_portable(long kc, const float *a, const void *bv, float *c, long ldc, int first, const float *bias) {
    const uint16_t *b = bv;
    VK_TILE_PORTABLE(VK_BF16_AT)
}

#if VK_X86
// The C tile is touched only after the K loop; its 12 lines are prefetched first (a block of C
// rows is larger than L2 for wide outputs, so the tile would otherwise miss to L3).
#define VK_TILE_AVX2(LOAD_B)                                                                             \
    for (int row = 0; row < MR; row++) {                                                                 \
        _mm_prefetch((const char *)(c + row * ldc), _MM_HINT_T0);                                        \
        _mm_prefetch((const char *)(c + row * ldc + 15), _MM_HINT_T0);                                   \
    }                                                                                                    \
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();                                         \
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();                                         \
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();                                         \
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();                                         \
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();                                         \
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();                                         \
    for (long p = 0; p < kc; p++) {                                                                      \
        __m256 b0, b1;                                                                                   \
        LOAD_B(b0, b1)                                                                                   \
        __m256 a0 = _mm256_broadcast_ss(a + 0);                                                          \
        c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);                          \
        __m256 a1 = _mm256_broadcast_ss(a + 1);                                                          \
        c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);                          \
        __m256 a2 = _mm256_broadcast_ss(a + 2);                                                          \
        c20 = _mm256_fmadd_ps(a2, b0, c20); c21 = _mm256_fmadd_ps(a2, b1, c21);                          \
        __m256 a3 = _mm256_broadcast_ss(a + 3);                                                          \
        c30 = _mm256_fmadd_ps(a3, b0, c30); c31 = _mm256_fmadd_ps(a3, b1, c31);                          \
        __m256 a4 = _mm256_broadcast_ss(a + 4);                                                          \
        c40 = _mm256_fmadd_ps(a4, b0, c40); c41 = _mm256_fmadd_ps(a4, b1, c41);                          \
        __m256 a5 = _mm256_broadcast_ss(a + 5);                                                          \
        c50 = _mm256_fmadd_ps(a5, b0, c50); c51 = _mm256_fmadd_ps(a5, b1, c51);                          \
        a += MR; b += NR;                                                                                \
    }                                                                                                    \
    __m256 base0 = _mm256_setzero_ps(), base1 = _mm256_setzero_ps();                                     \
    if (first && bias) { base0 = _mm256_loadu_ps(bias); base1 = _mm256_loadu_ps(bias + 8); }             \
    VK_STORE_ROW(0, c00, c01) VK_STORE_ROW(1, c10, c11) VK_STORE_ROW(2, c20, c21)                        \
    VK_STORE_ROW(3, c30, c31) VK_STORE_ROW(4, c40, c41) VK_STORE_ROW(5, c50, c51)

#define VK_STORE_ROW(row, lo, hi)                                                                        \
    _mm256_storeu_ps(c + row * ldc, _mm256_add_ps(first ? base0 : _mm256_loadu_ps(c + row * ldc), lo));  \
    _mm256_storeu_ps(c + row * ldc + 8, _mm256_add_ps(first ? base1 : _mm256_loadu_ps(c + row * ldc + 8), hi));

// `rows` x 32 (rows <= 12, a constant at each call): rows 0-5 from a-panel a0, 6-11 from a1;
// columns 0-15 from b-panel b0, 16-31 from b1. Every element's sum is the 6 x 16 kernel's (the
// same fused multiply-adds in the same order, then the same base added), so with equal K blocks
// the AVX2 and AVX-512 paths agree bit for bit. Fewer rows than 12 (a short sentence) cost fewer multiply-adds per pass
// over B, which is what such a multiply waits on.
VK_AVX512 static inline __attribute__((always_inline)) void tile_avx512(
    int rows, long kc, const float *a0, const float *a1, const float *b0, const float *b1,
    float *c, long ldc, int first, const float *bias) {
    for (int row = 0; row < rows; row++) {
        _mm_prefetch((const char *)(c + row * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + row * ldc + 31), _MM_HINT_T0);
    }
    __m512 acc[2 * MR][2];
    for (int i = 0; i < rows; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (long p = 0; p < kc; p++) {
        __m512 x0 = _mm512_loadu_ps(b0 + p * NR), x1 = _mm512_loadu_ps(b1 + p * NR);
        for (int i = 0; i < rows; i++) {
            __m512 y = _mm512_set1_ps(i < MR ? a0[p * MR + i] : a1[p * MR + i - MR]);
            acc[i][0] = _mm512_fmadd_ps(y, x0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(y, x1, acc[i][1]);
        }
    }
    __m512 base0 = _mm512_setzero_ps(), base1 = _mm512_setzero_ps();
    if (first && bias) { base0 = _mm512_loadu_ps(bias); base1 = _mm512_loadu_ps(bias + NR); }
    for (int i = 0; i < rows; i++) {
        float *row = c + i * ldc;
        _mm512_storeu_ps(row, _mm512_add_ps(first ? base0 : _mm512_loadu_ps(row), acc[i][0]));
        _mm512_storeu_ps(row + NR, _mm512_add_ps(first ? base1 : _mm512_loadu_ps(row + NR), acc[i][1]));
    }
}

VK_AVX512 static void kernel_avx512_12x32(long kc, const float *a0, const float *a1, const float *b0, const float *b1,
                                          float *c, long ldc, int first, const float *bias) {
    tile_avx512(2 * MR, kc, a0, a1, b0, b1, c, ldc, first, bias);
}

// The first `rows` (1 ... 11) rows of the 12 x 32 tile, written to c (row stride 2 * NR) as
// `first` without a bias; rows past the A panels' real rows are never computed.
VK_AVX512 static void kernel_avx512_rows_x32(long rows, long kc, const float *a0, const float *a1, const float *b0,
                                             const float *b1, float *c) {
    switch (rows) {
    case 1: tile_avx512(1, kc, a0, a1, b0, b1, c, 2 * NR, 1, NULL); break;
    case 2: tile_avx512(2, kc, a0, a1, b0, b1, c, 2 * NR, 1, NULL); break;
    case 3: case 4: tile_avx512(4, kc, a0, a1, b0, b1, c, 2 * NR, 1, NULL); break;
    case 5: case 6: tile_avx512(6, kc, a0, a1, b0, b1, c, 2 * NR, 1, NULL); break;
    case 7: case 8: tile_avx512(8, kc, a0, a1, b0, b1, c, 2 * NR, 1, NULL); break;
    default: tile_avx512(2 * MR, kc, a0, a1, b0, b1, c, 2 * NR, 1, NULL); break;
    }
}

#define VK_LOAD_FLOAT(b0, b1) b0 = _mm256_load_ps(b); b1 = _mm256_load_ps(b + 8);
#define VK_LOAD_BF16(b0, b1)                                                                             \
    __m256i raw = _mm256_load_si256((const __m256i *)b);                                                 \
    b0 = _mm256_castsi256_ps(_mm256_unpacklo_epi16(zero, raw));                                          \
    b1 = _mm256_castsi256_ps(_mm256_unpackhi_epi16(zero, raw));

VK_AVX2 static void kernel_avx2(long kc, const float *a, const void *bv, float *c, long ldc, int first, const float *bias) {
    const float *b = bv;
    VK_TILE_AVX2(VK_LOAD_FLOAT)
}

VK_AVX2 static void kernel_bf16_avx2(long kc, const float *a, const void *bv, float *c, long ldc, int first, const float *bias) {
    const uint16_t *b = bv;
    const __m256i zero = _mm256_setzero_si256();
    VK_TILE_AVX2(VK_LOAD_BF16)
}
#endif

typedef void (*kernel_fn)(long, const float *, const void *, float *, long, int, const float *);

// The layout of a pre-packed B: K is cut into kb-deep blocks, block `pc` starts at `pc * Np`
// (Np = N rounded up to NR), and holds the NR-wide panels of pack_b, panel `j` at `j * kc`.
static long padded_columns(long N) { return (N + NR - 1) / NR * NR; }

long vk_packed_b_count(long N, long K) { return N <= 0 || K <= 0 ? 0 : padded_columns(N) * K; }

void vk_pack_b(int transB, long N, long K, const float *B, long ldb, long kb, float *packed) {
    long np = padded_columns(N);
    for (long pc = 0; pc < K; pc += kb) {
        long kc = K - pc < kb ? K - pc : kb;
        pack_b(transB, B, ldb, pc, kc, 0, N, packed + pc * np);
    }
}

void vk_unpack_b(long N, long K, long kb, const float *packed, float *B) {
    long np = padded_columns(N);
    for (long pc = 0; pc < K; pc += kb) {
        long kc = K - pc < kb ? K - pc : kb;
        const float *block = packed + pc * np;
        for (long n = 0; n < N; n++) {
            const float *panel = block + (n / NR) * NR * kc;
            long j = n % NR;
            for (long p = 0; p < kc; p++) B[n * K + pc + p] = panel[p * NR + j];
        }
    }
}

// The blocked loop shared by vk_sgemm and vk_sgemm_packed(_bf16). B is either packed here into
// scratch (packed == NULL) or read from a pre-packed matrix of `packed_n` columns, starting at
// column `n0`: floats, or bfloat16 panels (vk_pack_b_bf16) when `bf16`.
// With beta 0 the first K block writes C (plus `bias`, a row added to every row of C, may be NULL)
// without reading it, so C needs no zeroing pass; later blocks accumulate.
static int sgemm_blocked(int transA, int transB, long M, long N, long K, float alpha,
                         const float *A, long lda, const float *B, long ldb,
                         const void *packed, int bf16, long packed_n, long n0, long kb, float beta, const float *bias, float *C, long ldc) {
    if (M < 0 || N < 0 || K < 0) return VK_ERROR_ARGUMENT;
    if (M == 0 || N == 0) return VK_OK;
    if (K <= 0 || alpha == 0.0f) {
        for (long i = 0; i < M; i++) {
            float *row = C + i * ldc;
            for (long j = 0; j < N; j++) row[j] = (beta == 0.0f ? 0.0f : beta * row[j]) + (bias ? bias[j] : 0.0f);
        }
        return VK_OK;
    }
    float *pa = vk_thread_scratch(VK_SCRATCH_GEMM_A, (size_t)MC * kb);
    float *pb = packed ? NULL : vk_thread_scratch(VK_SCRATCH_GEMM_B, (size_t)kb * padded_columns(N < NC ? N : NC));
    if (!pa || (!packed && !pb)) return VK_ERROR_MEMORY;   // before C is touched: no half-written result
    if (beta != 0.0f && beta != 1.0f)
        for (long i = 0; i < M; i++) for (long j = 0; j < N; j++) C[i * ldc + j] *= beta;
    int overwrite = beta == 0.0f;
    if (!overwrite && bias)
        for (long i = 0; i < M; i++) for (long j = 0; j < N; j++) C[i * ldc + j] += bias[j];
    kernel_fn kernel = bf16 ? kernel_bf16_portable : kernel_portable;
#if VK_X86
    if (vk_uses_avx2()) kernel = bf16 ? kernel_bf16_avx2 : kernel_avx2;
#endif
    size_t element = bf16 ? sizeof(uint16_t) : sizeof(float);
    long np = packed ? padded_columns(packed_n) : 0;
#if VK_X86
    int wide = !bf16 && vk_uses_avx512();
#else
    int wide = 0;
#endif
    float edge[MR * NR] __attribute__((aligned(64)));
    float wide_edge[4 * MR * NR] __attribute__((aligned(64)));
    for (long jc = 0; jc < N; jc += NC) {
        long nc = N - jc < NC ? N - jc : NC;
        for (long pc = 0; pc < K; pc += kb) {
            long kc = K - pc < kb ? K - pc : kb;
            const char *bblock;
            if (packed) {
                bblock = (const char *)packed + (size_t)(pc * np + (n0 + jc) * kc) * element;
            } else {
                pack_b(transB, B, ldb, pc, kc, jc, nc, pb);
                bblock = (const char *)pb;
            }
            for (long ic = 0; ic < M; ic += MC) {
                long mc = M - ic < MC ? M - ic : MC;
                pack_a(transA, A, lda, ic, mc, pc, kc, alpha, pa);
                int first = overwrite && pc == 0;
                // One MR x NR tile at (ir, jr) of the block: the kernel, or its result through `edge`.
#define VK_TILE(ir, jr)                                                                                  \
                {                                                                                        \
                    long mr = mc - (ir) < MR ? mc - (ir) : MR, nr = nc - (jr) < NR ? nc - (jr) : NR;     \
                    float *c = C + (ic + (ir)) * ldc + jc + (jr);                                        \
                    const float *a = pa + (ir) * kc;                                                     \
                    const void *b = bblock + (size_t)((jr) * kc) * element;                              \
                    const float *tileBias = first && bias ? bias + jc + (jr) : NULL;                     \
                    if (mr == MR && nr == NR) {                                                          \
                        kernel(kc, a, b, c, ldc, first, tileBias);                                       \
                    } else {                                                                             \
                        kernel(kc, a, b, edge, NR, 1, NULL);                                             \
                        for (long ti = 0; ti < mr; ti++)                                                 \
                            for (long tj = 0; tj < nr; tj++)                                             \
                                c[ti * ldc + tj] = (first ? (tileBias ? tileBias[tj] : 0.0f) : c[ti * ldc + tj]) + edge[ti * NR + tj]; \
                    }                                                                                    \
                }
#if VK_X86
                if (wide) {
                    for (long jr = 0; jr < nc; jr += 2 * NR) {
                        for (long ir = 0; ir < mc; ir += 2 * MR) {
                            if (nc - jr >= 2 * NR) {
                                const float *a = pa + ir * kc, *b = (const float *)bblock + jr * kc;
                                const float *tileBias = first && bias ? bias + jc + jr : NULL;
                                float *c = C + (ic + ir) * ldc + jc + jr;
                                if (mc - ir >= 2 * MR) {
                                    kernel_avx512_12x32(kc, a, a + MR * kc, b, b + NR * kc, c, ldc, first, tileBias);
                                    continue;
                                }
                                // Fewer rows (one short sentence): one pass over these two B panels
                                // with only as many rows as there are (rounded up within the zero
                                // rows pack_a pads a partial A panel with), through a scratch tile.
                                long mr = mc - ir;
                                kernel_avx512_rows_x32(mr, kc, a, mr > MR ? a + MR * kc : a, b, b + NR * kc, wide_edge);
                                for (long ti = 0; ti < mr; ti++)
                                    for (long tj = 0; tj < 2 * NR; tj++)
                                        c[ti * ldc + tj] = (first ? (tileBias ? tileBias[tj] : 0.0f) : c[ti * ldc + tj]) + wide_edge[ti * 2 * NR + tj];
                                continue;
                            }
                            for (long i = ir; i < ir + 2 * MR && i < mc; i += MR)
                                for (long j = jr; j < jr + 2 * NR && j < nc; j += NR) VK_TILE(i, j)
                        }
                    }
                    continue;
                }
#endif
                for (long jr = 0; jr < nc; jr += NR)
                    for (long ir = 0; ir < mc; ir += MR) VK_TILE(ir, jr)
#undef VK_TILE
            }
        }
    }
    return VK_OK;
}

int vk_sgemm(int transA, int transB, long M, long N, long K, float alpha,
             const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc) {
    return sgemm_blocked(transA, transB, M, N, K, alpha, A, lda, B, ldb, NULL, 0, 0, 0, vk_pack_depth(), beta, NULL, C, ldc);
}

int vk_sgemm_packed(int transA, long M, long N, long K, float alpha, const float *A, long lda,
                    const float *packed, long packed_n, long n0, long kb, float beta, const float *bias, float *C, long ldc) {
    if (n0 < 0 || n0 % NR != 0 || n0 + N > packed_n || kb <= 0) return VK_ERROR_ARGUMENT;
    return sgemm_blocked(transA, 0, M, N, K, alpha, A, lda, NULL, 0, packed, 0, packed_n, n0, kb, beta, bias ? bias + n0 : NULL, C, ldc);
}

void vk_pack_b_bf16(int transB, long N, long K, const float *B, long ldb, long kb, uint16_t *packed) {
    long np = padded_columns(N);
    for (long pc = 0; pc < K; pc += kb) {
        long kc = K - pc < kb ? K - pc : kb;
        uint16_t *block = packed + pc * np;
        for (long n = 0; n < np; n++) {
            uint16_t *column = block + n / NR * NR * kc + bf16_slot(n % NR);
            for (long p = 0; p < kc; p++) {
                float v = n >= N ? 0.0f : transB ? B[n * ldb + pc + p] : B[(pc + p) * ldb + n];
                column[p * NR] = vk_bf16_round(v);
            }
        }
    }
}

void vk_unpack_b_bf16(long N, long K, long kb, const uint16_t *packed, float *B) {
    long np = padded_columns(N);
    for (long pc = 0; pc < K; pc += kb) {
        long kc = K - pc < kb ? K - pc : kb;
        const uint16_t *block = packed + pc * np;
        for (long n = 0; n < N; n++) {
            const uint16_t *panel = block + n / NR * NR * kc;
            for (long p = 0; p < kc; p++) B[n * K + pc + p] = vk_bf16_widen(panel[p * NR + bf16_slot(n % NR)]);
        }
    }
}

int vk_sgemm_packed_bf16(int transA, long M, long N, long K, float alpha, const float *A, long lda,
                         const uint16_t *packed, long packed_n, long n0, long kb, float beta, const float *bias, float *C, long ldc) {
    if (n0 < 0 || n0 % NR != 0 || n0 + N > packed_n || kb <= 0) return VK_ERROR_ARGUMENT;
    return sgemm_blocked(transA, 0, M, N, K, alpha, A, lda, NULL, 0, packed, 1, packed_n, n0, kb, beta, bias ? bias + n0 : NULL, C, ldc);
}

// ---- One multiply on several threads, B packed once ------------------------------------------
// Splitting rows across threads and letting each call vk_sgemm would have every thread pack all
// of B (as much memory traffic as the multiply itself when B is an activation of a training step).
// Here the threads first pack B together, column panels shared out, then multiply row blocks
// against the one packed copy.

typedef struct {
    int transA, transB;
    long M, N, K, parts, kb;
    float alpha, beta;
    const float *A, *B, *bias;
    long lda, ldb, ldc;
    float *C, *packed;
    _Atomic int status;   // VK_OK, or the first failure of a part
} shared_gemm;

// Part `index` of `count` of `units` units of `granularity` (the split of VerdictTensor's Parallel.chunks).
static void part_range(long index, long count, long units, long granularity, long limit, long *lo, long *hi) {
    *lo = index * units / count * granularity;
    *hi = (index + 1) * units / count * granularity;
    if (*lo > limit) *lo = limit;
    if (*hi > limit) *hi = limit;
}

static void shared_pack_part(void *ctx, long index) {
    const shared_gemm *g = (const shared_gemm *)ctx;
    long n0, n1;
    part_range(index, g->parts, padded_columns(g->N) / NR, NR, g->N, &n0, &n1);
    if (n0 >= n1) return;
    long np = padded_columns(g->N);
    for (long pc = 0; pc < g->K; pc += g->kb) {
        long kc = g->K - pc < g->kb ? g->K - pc : g->kb;
        pack_b(g->transB, g->B, g->ldb, pc, kc, n0, n1 - n0, g->packed + pc * np + n0 * kc);
    }
}

static void shared_multiply_part(void *ctx, long index) {
    const shared_gemm *g = (const shared_gemm *)ctx;
    long m0, m1, rows = vk_uses_avx512() ? 2 * MR : MR;   // whole tiles of the kernel in use
    part_range(index, g->parts, (g->M + rows - 1) / rows, rows, g->M, &m0, &m1);
    if (m0 >= m1) return;
    const float *a = g->transA ? g->A + m0 : g->A + m0 * g->lda;
    int status = sgemm_blocked(g->transA, 0, m1 - m0, g->N, g->K, g->alpha, a, g->lda, NULL, 0, g->packed, 0, g->N, 0, g->kb,
                               g->beta, g->bias, g->C + m0 * g->ldc, g->ldc);
    if (status != VK_OK) atomic_store(&((shared_gemm *)ctx)->status, status);
}

int vk_sgemm_parallel(int threads, int transA, int transB, long M, long N, long K, float alpha,
                      const float *A, long lda, const float *B, long ldb, float beta, const float *bias, float *C, long ldc) {
    if (threads < 2 || M < (long)MR * threads || N <= 0 || K <= 0) return 0;
    float *packed = vk_thread_scratch(VK_SCRATCH_GEMM_SHARED, (size_t)vk_packed_b_count(N, K));
    if (!packed) return 0;
    // A few parts per thread, handed out dynamically: a thread that starts late takes fewer.
    long rows = vk_uses_avx512() ? 2 * MR : MR;
    long parts = 4L * threads, row_units = (M + rows - 1) / rows;
    if (parts > row_units) parts = row_units;
    shared_gemm g = { transA, transB, M, N, K, parts, vk_pack_depth(), alpha, beta, A, B, bias, lda, ldb, ldc, C, packed, VK_OK };
    vk_parallel_for(threads, parts, shared_pack_part, &g);
    vk_parallel_for(threads, parts, shared_multiply_part, &g);
    int status = atomic_load(&g.status);
    return status == VK_OK ? 1 : status;
}
