// Fused scaled dot-product attention for inference: one (sequence, head) at a time, query rows
// in blocks of 4 (AVX2) or 8 (AVX-512). For each block the scores against every allowed key are
// computed into a 4 x L or 8 x L strip (never the L x L matrix), turned into probabilities in
// place, and multiplied by V. K is transposed once per call into scratch so the scores are a
// register-tiled FMA loop like the matrix multiply's micro-kernel. Both paths sum every score
// and every output in the same order with the same fused multiply-adds, so they give the same
// bits; the AVX-512 blocks only load more per instruction (8 rows x 32 columns per tile).
#include "CVerdictKernels.h"
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if VK_X86
#include <immintrin.h>
#endif

enum { AMR = 4, AMR512 = 8 };

static float *scratch_of(long count) { return vk_thread_scratch(VK_SCRATCH_ATTENTION, (size_t)count); }

// The keys query i may attend to: [lo, hi).
static void key_range(long i, long l, int causal, long window, long *lo, long *hi) {
    *lo = window >= 0 && i - window > 0 ? i - window : 0;
    *hi = causal ? i + 1 : (window >= 0 && i + window + 1 < l ? i + window + 1 : l);
}

// ---- portable --------------------------------------------------------------------------------

static void attention_portable(const float *q, long ldq, long nq, long pos0, const float *kt, const float *v, long ldv, float *out, long ldo,
                               long l, long d, float scale, int causal, long window, float *strip) {
    for (long i = 0; i < nq; i++) {
        long lo, hi;
        key_range(pos0 + i, l, causal, window, &lo, &hi);
        float mx = -INFINITY;
        for (long j = lo; j < hi; j++) {
            float s = 0;
            for (long p = 0; p < d; p++) s += q[i * ldq + p] * kt[p * l + j];
            strip[j] = s * scale;
            if (strip[j] > mx) mx = strip[j];
        }
        float sum = 0;
        for (long j = lo; j < hi; j++) { strip[j] = expf(strip[j] - mx); sum += strip[j]; }
        float *o = out + i * ldo;
        for (long p = 0; p < d; p++) o[p] = 0;
        for (long j = lo; j < hi; j++) {
            float w = strip[j] / sum;
            for (long p = 0; p < d; p++) o[p] += w * v[j * ldv + p];
        }
    }
}

// ---- AVX2 --------------------------------------------------------------------------------------

#if VK_X86
// strip[i][j] = scale * q_i . k_j for the 4 rows of the block and keys [j0, j1), 16 at a time
// (the strip has room for the rounded-up end).
VK_AVX2 static void scores_avx2(const float *q, long ldq, const float *kt, long l, long d, float scale,
                                long j0, long j1, float *strip, long ld) {
    const __m256 vs = _mm256_set1_ps(scale);
    for (long j = j0; j < j1; j += 16) {
        __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
        __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
        for (long p = 0; p < d; p++) {
            const float *k = kt + p * l + j;
            __m256 b0 = _mm256_loadu_ps(k), b1 = _mm256_loadu_ps(k + 8);
            __m256 a = _mm256_broadcast_ss(q + p);
            c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
            a = _mm256_broadcast_ss(q + ldq + p);
            c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
            a = _mm256_broadcast_ss(q + 2 * ldq + p);
            c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
            a = _mm256_broadcast_ss(q + 3 * ldq + p);
            c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
        }
        _mm256_storeu_ps(strip + j, _mm256_mul_ps(c00, vs)); _mm256_storeu_ps(strip + j + 8, _mm256_mul_ps(c01, vs));
        _mm256_storeu_ps(strip + ld + j, _mm256_mul_ps(c10, vs)); _mm256_storeu_ps(strip + ld + j + 8, _mm256_mul_ps(c11, vs));
        _mm256_storeu_ps(strip + 2 * ld + j, _mm256_mul_ps(c20, vs)); _mm256_storeu_ps(strip + 2 * ld + j + 8, _mm256_mul_ps(c21, vs));
        _mm256_storeu_ps(strip + 3 * ld + j, _mm256_mul_ps(c30, vs)); _mm256_storeu_ps(strip + 3 * ld + j + 8, _mm256_mul_ps(c31, vs));
    }
}

// row[lo, hi) = exp(row - max), zero elsewhere in [j0, j1); returns the sum.
VK_AVX2 static float exp_row_avx2(float *row, long j0, long j1, long lo, long hi) {
    for (long j = j0; j < lo; j++) row[j] = 0;
    for (long j = hi; j < j1; j++) row[j] = 0;
    long j = lo;
    __m256 vmax = _mm256_set1_ps(-INFINITY);
    for (; j + 8 <= hi; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(row + j));
    float mx = hmax256(vmax);
    for (; j < hi; j++) if (row[j] > mx) mx = row[j];
    __m256 vm = _mm256_set1_ps(mx), vsum = _mm256_setzero_ps();
    float sum = 0;
    for (j = lo; j + 8 <= hi; j += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + j), vm));
        _mm256_storeu_ps(row + j, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    for (; j < hi; j++) { row[j] = expf(row[j] - mx); sum += row[j]; }
    return sum + hsum256(vsum);
}

// out rows i0..i0+mr-1 = strip . V[j0, j1) / sums, 16 columns of d at a time (d a multiple of 8).
VK_AVX2 static void weighted_values_avx2(const float *strip, long ld, const float *v, long ldv, long j0, long j1, long d,
                                         const float *inv, long mr, float *out, long ldo) {
    for (long c = 0; c < d; c += 16) {
        int two = c + 16 <= d;
        __m256 o00 = _mm256_setzero_ps(), o01 = _mm256_setzero_ps(), o10 = _mm256_setzero_ps(), o11 = _mm256_setzero_ps();
        __m256 o20 = _mm256_setzero_ps(), o21 = _mm256_setzero_ps(), o30 = _mm256_setzero_ps(), o31 = _mm256_setzero_ps();
        for (long j = j0; j < j1; j++) {
            const float *vr = v + j * ldv + c;
            __m256 b0 = _mm256_loadu_ps(vr), b1 = two ? _mm256_loadu_ps(vr + 8) : _mm256_setzero_ps();
            __m256 a = _mm256_broadcast_ss(strip + j);
            o00 = _mm256_fmadd_ps(a, b0, o00); o01 = _mm256_fmadd_ps(a, b1, o01);
            a = _mm256_broadcast_ss(strip + ld + j);
            o10 = _mm256_fmadd_ps(a, b0, o10); o11 = _mm256_fmadd_ps(a, b1, o11);
            a = _mm256_broadcast_ss(strip + 2 * ld + j);
            o20 = _mm256_fmadd_ps(a, b0, o20); o21 = _mm256_fmadd_ps(a, b1, o21);
            a = _mm256_broadcast_ss(strip + 3 * ld + j);
            o30 = _mm256_fmadd_ps(a, b0, o30); o31 = _mm256_fmadd_ps(a, b1, o31);
        }
        __m256 acc[AMR][2] = {{o00, o01}, {o10, o11}, {o20, o21}, {o30, o31}};
        for (long i = 0; i < mr; i++) {
            __m256 s = _mm256_set1_ps(inv[i]);
            _mm256_storeu_ps(out + i * ldo + c, _mm256_mul_ps(acc[i][0], s));
            if (two) _mm256_storeu_ps(out + i * ldo + c + 8, _mm256_mul_ps(acc[i][1], s));
        }
    }
}

// The query rows of a block of `rows` starting at i0, of which `mr` are real (rows past the end
// repeat the last: computed, not stored), the keys each row may attend to, and the block's
// [j0, j1): j0 rounded down to `align`.
static const float *block_setup(const float *q, long ldq, long i0, long mr, long rows, long d, long pos0, long l, int causal,
                                long window, long align, float *copy, long *ldqb, long *lo, long *hi, long *j0, long *j1) {
    const float *qb = q + i0 * ldq;
    *ldqb = ldq;
    if (mr < rows) {
        for (long i = 0; i < rows; i++) memcpy(copy + i * d, q + (i0 + (i < mr ? i : mr - 1)) * ldq, (size_t)d * sizeof(float));
        qb = copy; *ldqb = d;
    }
    *j0 = l; *j1 = 0;
    for (long i = 0; i < rows; i++) {
        key_range(pos0 + i0 + (i < mr ? i : mr - 1), l, causal, window, lo + i, hi + i);
        if (lo[i] < *j0) *j0 = lo[i];
        if (hi[i] > *j1) *j1 = hi[i];
    }
    *j0 = *j0 / align * align;
    return qb;
}

// Query rows i0 .. i0 + mr - 1 (mr <= 4).
VK_AVX2 static void block_avx2(const float *q, long ldq, long i0, long mr, long pos0, const float *kt, const float *v, long ldv,
                               float *out, long ldo, long l, long d, float scale, int causal, long window, float *strip, long ld) {
    float copy[AMR * 256];
    long lo[AMR], hi[AMR], j0, j1, ldqb;
    const float *qb = block_setup(q, ldq, i0, mr, AMR, d, pos0, l, causal, window, 16, copy, &ldqb, lo, hi, &j0, &j1);
    long j1r = (j1 + 15) / 16 * 16;   // kt has room up to ld columns; extra keys are zeroed
    scores_avx2(qb, ldqb, kt, ld, d, scale, j0, j1r, strip, ld);
    float inv[AMR];
    for (long i = 0; i < AMR; i++) inv[i] = 1.0f / exp_row_avx2(strip + i * ld, j0, j1r, lo[i], hi[i]);
    weighted_values_avx2(strip, ld, v, ldv, j0, j1, d, inv, mr, out + i0 * ldo, ldo);
}

VK_AVX2 static void attention_avx2(const float *q, long ldq, long nq, long pos0, const float *kt, const float *v, long ldv, float *out, long ldo,
                                   long l, long d, float scale, int causal, long window, float *strip, long ld) {
    for (long i0 = 0; i0 < nq; i0 += AMR)
        block_avx2(q, ldq, i0, nq - i0 < AMR ? nq - i0 : AMR, pos0, kt, v, ldv, out, ldo, l, d, scale, causal, window, strip, ld);
}

// ---- AVX-512 ----------------------------------------------------------------------------------

// strip[i][j] = scale * q_i . k_j for the 8 rows of the block and keys [j0, j1), 32 at a time:
// 16 zmm accumulators, two loads of K and eight broadcasts per 16 multiply-adds.
#define VK_SCORE_ROW(r) { __m512 a = _mm512_set1_ps(q[r * ldq + p]); \
    c##r##a = _mm512_fmadd_ps(a, b0, c##r##a); c##r##b = _mm512_fmadd_ps(a, b1, c##r##b); }
#define VK_SCORE_STORE(r) { _mm512_storeu_ps(strip + r * ld + j, _mm512_mul_ps(c##r##a, vs)); \
    _mm512_storeu_ps(strip + r * ld + j + 16, _mm512_mul_ps(c##r##b, vs)); }
VK_AVX512 static void scores_avx512(const float *q, long ldq, const float *kt, long d, float scale, long j0, long j1, float *strip, long ld) {
    const __m512 vs = _mm512_set1_ps(scale);
    for (long j = j0; j < j1; j += 32) {
        __m512 c0a = _mm512_setzero_ps(), c0b = c0a, c1a = c0a, c1b = c0a, c2a = c0a, c2b = c0a, c3a = c0a, c3b = c0a;
        __m512 c4a = c0a, c4b = c0a, c5a = c0a, c5b = c0a, c6a = c0a, c6b = c0a, c7a = c0a, c7b = c0a;
        for (long p = 0; p < d; p++) {
            const float *k = kt + p * ld + j;
            __m512 b0 = _mm512_loadu_ps(k), b1 = _mm512_loadu_ps(k + 16);
            VK_SCORE_ROW(0) VK_SCORE_ROW(1) VK_SCORE_ROW(2) VK_SCORE_ROW(3)
            VK_SCORE_ROW(4) VK_SCORE_ROW(5) VK_SCORE_ROW(6) VK_SCORE_ROW(7)
        }
        VK_SCORE_STORE(0) VK_SCORE_STORE(1) VK_SCORE_STORE(2) VK_SCORE_STORE(3)
        VK_SCORE_STORE(4) VK_SCORE_STORE(5) VK_SCORE_STORE(6) VK_SCORE_STORE(7)
    }
}
#undef VK_SCORE_ROW
#undef VK_SCORE_STORE

// out rows i0..i0+mr-1 = strip . V[j0, j1) / sums, 32 columns of d at a time (masked at the end).
#define VK_VALUE_ROW(r) { __m512 a = _mm512_set1_ps(strip[r * ld + j]); \
    o##r##a = _mm512_fmadd_ps(a, b0, o##r##a); o##r##b = _mm512_fmadd_ps(a, b1, o##r##b); }
VK_AVX512 static void weighted_values_avx512(const float *strip, long ld, const float *v, long ldv, long j0, long j1, long d,
                                             const float *inv, long mr, float *out, long ldo) {
    for (long c = 0; c < d; c += 32) {
        long n0 = d - c < 16 ? d - c : 16, n1 = d - c - 16 < 0 ? 0 : (d - c - 16 < 16 ? d - c - 16 : 16);
        __mmask16 m0 = (__mmask16)((1u << n0) - 1), m1 = (__mmask16)((1u << n1) - 1);
        __m512 o0a = _mm512_setzero_ps(), o0b = o0a, o1a = o0a, o1b = o0a, o2a = o0a, o2b = o0a, o3a = o0a, o3b = o0a;
        __m512 o4a = o0a, o4b = o0a, o5a = o0a, o5b = o0a, o6a = o0a, o6b = o0a, o7a = o0a, o7b = o0a;
        for (long j = j0; j < j1; j++) {
            const float *vr = v + j * ldv + c;
            __m512 b0 = _mm512_maskz_loadu_ps(m0, vr), b1 = _mm512_maskz_loadu_ps(m1, vr + 16);
            VK_VALUE_ROW(0) VK_VALUE_ROW(1) VK_VALUE_ROW(2) VK_VALUE_ROW(3)
            VK_VALUE_ROW(4) VK_VALUE_ROW(5) VK_VALUE_ROW(6) VK_VALUE_ROW(7)
        }
        __m512 acc[AMR512][2] = {{o0a, o0b}, {o1a, o1b}, {o2a, o2b}, {o3a, o3b}, {o4a, o4b}, {o5a, o5b}, {o6a, o6b}, {o7a, o7b}};
        for (long i = 0; i < mr; i++) {
            __m512 s = _mm512_set1_ps(inv[i]);
            _mm512_mask_storeu_ps(out + i * ldo + c, m0, _mm512_mul_ps(acc[i][0], s));
            _mm512_mask_storeu_ps(out + i * ldo + c + 16, m1, _mm512_mul_ps(acc[i][1], s));
        }
    }
}
#undef VK_VALUE_ROW

// Blocks of 8 rows; the last 4 or fewer rows take the AVX2 block (the same bits, half the rows).
VK_AVX512 static void attention_avx512(const float *q, long ldq, long nq, long pos0, const float *kt, const float *v, long ldv, float *out,
                                       long ldo, long l, long d, float scale, int causal, long window, float *strip, long ld) {
    float copy[AMR512 * 256];
    for (long i0 = 0; i0 < nq;) {
        long mr = nq - i0 < AMR512 ? nq - i0 : AMR512;
        if (mr <= AMR) { block_avx2(q, ldq, i0, mr, pos0, kt, v, ldv, out, ldo, l, d, scale, causal, window, strip, ld); break; }
        long lo[AMR512], hi[AMR512], j0, j1, ldqb;
        const float *qb = block_setup(q, ldq, i0, mr, AMR512, d, pos0, l, causal, window, 32, copy, &ldqb, lo, hi, &j0, &j1);
        long j1r = (j1 + 31) / 32 * 32;   // ld is a multiple of 32 on this path
        scores_avx512(qb, ldqb, kt, d, scale, j0, j1r, strip, ld);
        float inv[AMR512];
        for (long i = 0; i < AMR512; i++) inv[i] = 1.0f / exp_row_avx2(strip + i * ld, j0, j1r, lo[i], hi[i]);
        weighted_values_avx512(strip, ld, v, ldv, j0, j1, d, inv, mr, out + i0 * ldo, ldo);
        i0 += mr;
    }
}
#endif

int vk_attention(const float *q, long ldq, const float *k, long ldk, const float *v, long ldv, float *out, long ldo,
                 long l, long d, float scale, int causal, long window) {
    return vk_attention_queries(q, ldq, l, 0, k, ldk, v, ldv, out, ldo, l, d, scale, causal, window);
}

int vk_attention_queries(const float *q, long ldq, long nq, long first_position, const float *k, long ldk,
                         const float *v, long ldv, float *out, long ldo, long l, long d, float scale, int causal, long window) {
    if (nq == 0) return VK_OK;
    if (l <= 0 || d <= 0 || nq < 0 || first_position < 0 || first_position + nq > l) return VK_ERROR_ARGUMENT;
#if VK_X86
    if (vk_uses_avx2() && d % 8 == 0 && d <= 256) {
        int wide = vk_uses_avx512();
        long align = wide ? 32 : 16, ld = (l + align - 1) / align * align;
        float *buf = scratch_of(ld * d + AMR512 * ld);
        if (buf) {
            float *kt = buf, *strip = buf + ld * d;
            for (long p = 0; p < d; p++) {
                for (long j = 0; j < l; j++) kt[p * ld + j] = k[j * ldk + p];
                for (long j = l; j < ld; j++) kt[p * ld + j] = 0;
            }
            if (wide) attention_avx512(q, ldq, nq, first_position, kt, v, ldv, out, ldo, l, d, scale, causal, window, strip, ld);
            else attention_avx2(q, ldq, nq, first_position, kt, v, ldv, out, ldo, l, d, scale, causal, window, strip, ld);
            return VK_OK;
        }
    }
#endif
    float *buf = scratch_of(l * d + l);
    if (!buf) return VK_ERROR_MEMORY;
    float *kt = buf, *strip = buf + l * d;
    for (long p = 0; p < d; p++) for (long j = 0; j < l; j++) kt[p * l + j] = k[j * ldk + p];
    attention_portable(q, ldq, nq, first_position, kt, v, ldv, out, ldo, l, d, scale, causal, window, strip);
    return VK_OK;
}
