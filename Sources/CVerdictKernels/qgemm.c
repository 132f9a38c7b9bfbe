// Int8 matrix multiply for dynamically quantised Linear layers.
//
// Activations: one scale and zero point per row, unsigned 8 bits (asymmetric, 256 levels).
// Weights: one scale per output channel, signed, symmetric, 7 bits ([-63, 63]). With 7-bit weights
// the AVX2 product `vpmaddubsw` (u8 x s8 pairs summed into int16) can never saturate:
// 2 * 255 * 63 = 32130 < 32767, so every path computes the same exact int32 sums and the
// portable, AVX2 and AVX-512 VNNI (`vpdpbusd`, which sums four products straight into int32)
// paths give bit-identical outputs.
//
// Weights are packed once into panels of 16 output channels; inside a panel, each group of four
// consecutive input features holds 16 x 4 bytes (channel-major), which is what one `vpmaddubsw`
// against a broadcast 4-byte group of activations consumes (one `vpdpbusd` on zmm consumes a
// whole group row of the panel). K is padded to a multiple of 4 with
// zero weights.
#include "CVerdictKernels.h"
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if VK_X86
#include <immintrin.h>
#endif

enum { QNR = 16, QMR = 4 };

long vk_qdepth(long K) { return K <= 0 ? 0 : (K + 3) / 4 * 4; }

long vk_qpacked_b_bytes(long N, long K) {
    return N <= 0 || K <= 0 ? 0 : (N + QNR - 1) / QNR * QNR * vk_qdepth(K);
}

// ---- weights -------------------------------------------------------------------------------

void vk_quantize_weights(const float *W, long N, long K, int8_t *q, float *scale) {
    for (long n = 0; n < N; n++) {
        const float *row = W + n * K;
        float m = 0;
        for (long k = 0; k < K; k++) { float a = fabsf(row[k]); if (a > m) m = a; }
        float s = m > 0 ? m / (float)VK_QWEIGHT_MAX : 1.0f;
        float inv = 1.0f / s;
        for (long k = 0; k < K; k++) {
            float v = nearbyintf(row[k] * inv);
            if (v > VK_QWEIGHT_MAX) v = VK_QWEIGHT_MAX;
            if (v < -VK_QWEIGHT_MAX) v = -VK_QWEIGHT_MAX;
            q[n * K + k] = (int8_t)v;
        }
        scale[n] = s;
    }
}

int vk_qpack_b(long N, long K, const int8_t *q, int8_t *packed, int32_t *colsum) {
    long K4 = vk_qdepth(K), np = (N + QNR - 1) / QNR * QNR;
    for (long n = 0; n < N; n++)
        for (long k = 0; k < K; k++)
            if (q[n * K + k] > VK_QWEIGHT_MAX || q[n * K + k] < -VK_QWEIGHT_MAX) return VK_ERROR_ARGUMENT;
    for (long n = 0; n < np; n++) {
        int8_t *panel = packed + (n / QNR) * QNR * K4;
        long j = n % QNR;
        int32_t sum = 0;
        for (long k = 0; k < K4; k++) {
            int8_t v = n < N && k < K ? q[n * K + k] : 0;
            panel[(k / 4) * QNR * 4 + j * 4 + k % 4] = v;
            sum += v;
        }
        colsum[n] = sum;
    }
    return VK_OK;
}

void vk_qunpack_b(long N, long K, const int8_t *packed, int8_t *q) {
    long K4 = vk_qdepth(K);
    for (long n = 0; n < N; n++) {
        const int8_t *panel = packed + (n / QNR) * QNR * K4;
        long j = n % QNR;
        for (long k = 0; k < K; k++) q[n * K + k] = panel[(k / 4) * QNR * 4 + j * 4 + k % 4];
    }
}

// ---- activations ---------------------------------------------------------------------------

// The range [min(0, x), max(0, x)] in 255 steps; 0 is exactly representable (the zero point).
static void row_parameters(float lo, float hi, float *scale, int32_t *zero) {
    if (lo > 0) lo = 0;
    if (hi < 0) hi = 0;
    float s = (hi - lo) / 255.0f;
    if (!(s > 0) || !isfinite(s)) { *scale = 1.0f; *zero = 0; return; }
    float z = nearbyintf(-lo / s);
    *scale = s;
    *zero = z < 0 ? 0 : z > 255 ? 255 : (int32_t)z;
}

static void quantize_row_portable(const float *x, long K, long K4, uint8_t *q, float *scale, int32_t *zero) {
    float lo = 0, hi = 0;
    for (long k = 0; k < K; k++) { if (x[k] < lo) lo = x[k]; if (x[k] > hi) hi = x[k]; }
    row_parameters(lo, hi, scale, zero);
    float inv = 1.0f / *scale, zp = (float)*zero;
    for (long k = 0; k < K; k++) {
        float v = nearbyintf(x[k] * inv) + zp;
        q[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    for (long k = K; k < K4; k++) q[k] = (uint8_t)*zero;
}

#if VK_X86
VK_AVX2 static void quantize_row_avx2(const float *x, long K, long K4, uint8_t *q, float *scale, int32_t *zero) {
    __m256 vlo = _mm256_setzero_ps(), vhi = _mm256_setzero_ps();
    long k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 v = _mm256_loadu_ps(x + k);
        vlo = _mm256_min_ps(vlo, v); vhi = _mm256_max_ps(vhi, v);
    }
    float lo = hmin256(vlo), hi = hmax256(vhi);   // both started at 0, so they include it
    for (; k < K; k++) { if (x[k] < lo) lo = x[k]; if (x[k] > hi) hi = x[k]; }
    row_parameters(lo, hi, scale, zero);
    float inv = 1.0f / *scale;
    __m256 vinv = _mm256_set1_ps(inv), vzp = _mm256_set1_ps((float)*zero);
    __m256 v0 = _mm256_setzero_ps(), v255 = _mm256_set1_ps(255.0f);
    k = 0;
    for (; k + 8 <= K; k += 8) {
        // nearbyint (round half to even, as the portable path) then clamp; exact in float.
        __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k), vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(v, vzp), v0), v255);
        __m256i i32 = _mm256_cvtps_epi32(v);
        __m128i i16 = _mm_packus_epi32(_mm256_castsi256_si128(i32), _mm256_extracti128_si256(i32, 1));
        __m128i i8 = _mm_packus_epi16(i16, i16);
        _mm_storel_epi64((__m128i *)(q + k), i8);
    }
    float zp = (float)*zero;
    for (; k < K; k++) {
        float v = nearbyintf(x[k] * inv) + zp;
        q[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    for (k = K; k < K4; k++) q[k] = (uint8_t)*zero;
}
#endif

void vk_quantize_rows(const float *x, long rows, long K, long ldx, uint8_t *q, long ldq, float *scale, int32_t *zero) {
    long K4 = vk_qdepth(K);
    for (long r = 0; r < rows; r++) {
#if VK_X86
        if (vk_uses_avx2()) { quantize_row_avx2(x + r * ldx, K, K4, q + r * ldq, scale + r, zero + r); continue; }
#endif
        quantize_row_portable(x + r * ldx, K, K4, q + r * ldq, scale + r, zero + r);
    }
}

// ---- the multiply --------------------------------------------------------------------------

// acc[QMR][QNR] = rows a[0..3] (K4 bytes each) . panel
static void kernel_portable(long K4, const uint8_t *const a[QMR], const int8_t *panel, int32_t acc[QMR][QNR]) {
    memset(acc, 0, sizeof(int32_t) * QMR * QNR);
    for (long p = 0; p < K4 / 4; p++) {
        const int8_t *b = panel + p * QNR * 4;
        for (int i = 0; i < QMR; i++) {
            const uint8_t *x = a[i] + 4 * p;
            for (int j = 0; j < QNR; j++)
                acc[i][j] += x[0] * b[4 * j] + x[1] * b[4 * j + 1] + x[2] * b[4 * j + 2] + x[3] * b[4 * j + 3];
        }
    }
}

#if VK_X86
VK_AVX2 static void kernel_avx2(long K4, const uint8_t *const a[QMR], const int8_t *panel, int32_t acc[QMR][QNR]) {
    __m256i c00 = _mm256_setzero_si256(), c01 = _mm256_setzero_si256();
    __m256i c10 = _mm256_setzero_si256(), c11 = _mm256_setzero_si256();
    __m256i c20 = _mm256_setzero_si256(), c21 = _mm256_setzero_si256();
    __m256i c30 = _mm256_setzero_si256(), c31 = _mm256_setzero_si256();
    const __m256i one = _mm256_set1_epi16(1);
    const uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    const int8_t *b = panel;
#define VK_DOT(c, x, w) c = _mm256_add_epi32(c, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), one))
    for (long p = 0; p < K4; p += 4) {
        __m256i b0 = _mm256_load_si256((const __m256i *)b), b1 = _mm256_load_si256((const __m256i *)(b + 32));
        __m256i x;
        int32_t v;
        memcpy(&v, a0 + p, 4); x = _mm256_set1_epi32(v); VK_DOT(c00, x, b0); VK_DOT(c01, x, b1);
        memcpy(&v, a1 + p, 4); x = _mm256_set1_epi32(v); VK_DOT(c10, x, b0); VK_DOT(c11, x, b1);
        memcpy(&v, a2 + p, 4); x = _mm256_set1_epi32(v); VK_DOT(c20, x, b0); VK_DOT(c21, x, b1);
        memcpy(&v, a3 + p, 4); x = _mm256_set1_epi32(v); VK_DOT(c30, x, b0); VK_DOT(c31, x, b1);
        b += QNR * 4;
    }
#undef VK_DOT
    _mm256_storeu_si256((__m256i *)acc[0], c00); _mm256_storeu_si256((__m256i *)(acc[0] + 8), c01);
    _mm256_storeu_si256((__m256i *)acc[1], c10); _mm256_storeu_si256((__m256i *)(acc[1] + 8), c11);
    _mm256_storeu_si256((__m256i *)acc[2], c20); _mm256_storeu_si256((__m256i *)(acc[2] + 8), c21);
    _mm256_storeu_si256((__m256i *)acc[3], c30); _mm256_storeu_si256((__m256i *)(acc[3] + 8), c31);
}
#endif

typedef void (*qkernel_fn)(long, const uint8_t *const[QMR], const int8_t *, int32_t[QMR][QNR]);

// c[i, j] = (acc[i][j] - zero_a[i] * colsum[j]) * (scale_a[i] * scale_w[j]) + bias[j], one rounding
// in the fused multiply-add (fmaf and _mm256_fmadd_ps round alike, so both paths agree bit for bit).
static void store_portable(int32_t acc[QMR][QNR], long mr, long nr, const float *scale_a, const int32_t *zero_a,
                           const float *scale_w, const int32_t *colsum, const float *bias, float *C, long ldc) {
    for (long i = 0; i < mr; i++)
        for (long j = 0; j < nr; j++)
            C[i * ldc + j] = fmaf((float)(acc[i][j] - zero_a[i] * colsum[j]), scale_a[i] * scale_w[j], bias ? bias[j] : 0.0f);
}

#if VK_X86
VK_AVX2 static void store_avx2(int32_t acc[QMR][QNR], long mr, long nr, const float *scale_a, const int32_t *zero_a,
                               const float *scale_w, const int32_t *colsum, const float *bias, float *C, long ldc) {
    if (nr != QNR) { store_portable(acc, mr, nr, scale_a, zero_a, scale_w, colsum, bias, C, ldc); return; }
    __m256 w0 = _mm256_loadu_ps(scale_w), w1 = _mm256_loadu_ps(scale_w + 8);
    __m256i s0 = _mm256_loadu_si256((const __m256i *)colsum), s1 = _mm256_loadu_si256((const __m256i *)(colsum + 8));
    __m256 b0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps(), b1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    for (long i = 0; i < mr; i++) {
        __m256 sa = _mm256_set1_ps(scale_a[i]);
        __m256i za = _mm256_set1_epi32(zero_a[i]);
        __m256i a0 = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)acc[i]), _mm256_mullo_epi32(za, s0));
        __m256i a1 = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(acc[i] + 8)), _mm256_mullo_epi32(za, s1));
        _mm256_storeu_ps(C + i * ldc, _mm256_fmadd_ps(_mm256_cvtepi32_ps(a0), _mm256_mul_ps(sa, w0), b0));
        _mm256_storeu_ps(C + i * ldc + 8, _mm256_fmadd_ps(_mm256_cvtepi32_ps(a1), _mm256_mul_ps(sa, w1), b1));
    }
}
#endif

typedef void (*qstore_fn)(int32_t[QMR][QNR], long, long, const float *, const int32_t *, const float *, const int32_t *,
                          const float *, float *, long);

#if VK_X86
// ---- AVX-512 VNNI: 8 rows x 32 channels (two panels) per tile, 16 zmm accumulators ------------
// One k-group step: two 64-byte panel rows, eight 4-byte activation broadcasts, 16 vpdpbusd. The
// epilogue is store_avx2's arithmetic on 16 lanes (same operations in the same order, same bits).
enum { VMR = 8 };

VK_AVX512VNNI static inline __attribute__((always_inline)) void vnni_tile(
    long K4, const uint8_t *const a[VMR], const int8_t *p0, const int8_t *p1, int panels, long mr, long nr,
    const float *scale_a, const int32_t *zero_a, const float *scale_w, const int32_t *colsum, const float *bias,
    float *C, long ldc) {
    __m512i c[VMR][2];
    for (int i = 0; i < VMR; i++) c[i][0] = c[i][1] = _mm512_setzero_si512();
    for (long p = 0; p < K4; p += 4) {
        __m512i b0 = _mm512_loadu_si512((const void *)(p0 + p * QNR));
        __m512i b1 = panels == 2 ? _mm512_loadu_si512((const void *)(p1 + p * QNR)) : b0;
        for (int i = 0; i < VMR; i++) {
            int32_t v;
            memcpy(&v, a[i] + p, 4);
            __m512i x = _mm512_set1_epi32(v);
            c[i][0] = _mm512_dpbusd_epi32(c[i][0], x, b0);
            if (panels == 2) c[i][1] = _mm512_dpbusd_epi32(c[i][1], x, b1);
        }
    }
    for (int h = 0; h < panels; h++) {
        long width = nr - h * QNR;
        if (width <= 0) break;
        __mmask16 mask = width >= QNR ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1);
        __m512 w = _mm512_maskz_loadu_ps(mask, scale_w + h * QNR);
        __m512i s = _mm512_maskz_loadu_epi32(mask, colsum + h * QNR);
        __m512 b = bias ? _mm512_maskz_loadu_ps(mask, bias + h * QNR) : _mm512_setzero_ps();
        for (int i = 0; i < VMR; i++) {
            if (i >= mr) break;
            __m512i acc = _mm512_sub_epi32(c[i][h], _mm512_mullo_epi32(_mm512_set1_epi32(zero_a[i]), s));
            __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc), _mm512_mul_ps(_mm512_set1_ps(scale_a[i]), w), b);
            _mm512_mask_storeu_ps(C + i * ldc + h * QNR, mask, y);
        }
    }
}

VK_AVX512VNNI static void qgemm_avx512vnni(long M, long N, long K4, const uint8_t *qa, long ldq, const float *scale_a,
                                           const int32_t *zero_a, const int8_t *packed, const int32_t *colsum,
                                           const float *scale_w, const float *bias, long n0, float *C, long ldc) {
    long mc = K4 > 0 ? 131072 / K4 / VMR * VMR : M;
    if (mc < VMR) mc = VMR;
    for (long ic = 0; ic < M; ic += mc) {
        long mend = ic + mc < M ? ic + mc : M;
        for (long jr = 0; jr < N; jr += 2 * QNR) {
            long col = n0 + jr, nr = N - jr < 2 * QNR ? N - jr : 2 * QNR;
            const int8_t *p0 = packed + col * K4, *p1 = p0 + QNR * K4;
            const float *tile_bias = bias ? bias + col : NULL;
            for (long ir = ic; ir < mend; ir += VMR) {
                long mr = mend - ir < VMR ? mend - ir : VMR;
                const uint8_t *rows[VMR];
                for (int i = 0; i < VMR; i++) rows[i] = qa + (ir + (i < mr ? i : 0)) * ldq;
                if (nr > QNR)
                    vnni_tile(K4, rows, p0, p1, 2, mr, nr, scale_a + ir, zero_a + ir, scale_w + col, colsum + col,
                              tile_bias, C + ir * ldc + jr, ldc);
                else
                    vnni_tile(K4, rows, p0, p0, 1, mr, nr, scale_a + ir, zero_a + ir, scale_w + col, colsum + col,
                              tile_bias, C + ir * ldc + jr, ldc);
            }
        }
    }
}
#endif

int vk_qgemm(long M, long N, long K, const uint8_t *qa, long ldq, const float *scale_a, const int32_t *zero_a,
             const int8_t *packed, const int32_t *colsum, const float *scale_w, const float *bias,
             long packed_n, long n0, float *C, long ldc) {
    if (M < 0 || N < 0 || K < 0 || n0 < 0 || n0 % QNR != 0 || n0 + N > packed_n) return VK_ERROR_ARGUMENT;
    if (M == 0 || N == 0) return VK_OK;
    long K4 = vk_qdepth(K);
#if VK_X86
    if (vk_uses_avx512vnni()) {
        qgemm_avx512vnni(M, N, K4, qa, ldq, scale_a, zero_a, packed, colsum, scale_w, bias, n0, C, ldc);
        return VK_OK;
    }
#endif
    qkernel_fn kernel = kernel_portable;
    qstore_fn store = store_portable;
#if VK_X86
    if (vk_uses_avx2()) { kernel = kernel_avx2; store = store_avx2; }
#endif
    // Rows in blocks whose quantised activations stay in L2 while every panel passes over them.
    long mc = K4 > 0 ? 131072 / K4 / QMR * QMR : M;
    if (mc < QMR) mc = QMR;
    int32_t acc[QMR][QNR] __attribute__((aligned(32)));
    for (long ic = 0; ic < M; ic += mc) {
        long mend = ic + mc < M ? ic + mc : M;
        for (long jr = 0; jr < N; jr += QNR) {
            long col = n0 + jr, nr = N - jr < QNR ? N - jr : QNR;
            const int8_t *panel = packed + col * K4;
            for (long ir = ic; ir < mend; ir += QMR) {
                long mr = mend - ir < QMR ? mend - ir : QMR;
                const uint8_t *rows[QMR];
                for (int i = 0; i < QMR; i++) rows[i] = qa + (ir + (i < mr ? i : 0)) * ldq;
                if (K4 > 0) kernel(K4, rows, panel, acc);
                else memset(acc, 0, sizeof acc);
                store(acc, mr, nr, scale_a + ir, zero_a + ir, scale_w + col, colsum + col, bias ? bias + col : NULL,
                      C + ir * ldc + jr, ldc);
            }
        }
    }
    return VK_OK;
}
