// Fused scaled dot-product attention for inference: one (sequence, head) at a time, query rows
// in blocks of 4. For each block the scores against every allowed key are computed into a
// 4 x L strip (never the L x L matrix), turned into probabilities in place, and multiplied by V.
// K is transposed once per call into scratch so the scores are a register-tiled FMA loop like
// the matrix multiply's micro-kernel.
#include "CVerdictKernels.h"
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if VK_X86
#include <immintrin.h>
#endif

enum { AMR = 4 };

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

VK_AVX2 static void attention_avx2(const float *q, long ldq, long nq, long pos0, const float *kt, const float *v, long ldv, float *out, long ldo,
                                   long l, long d, float scale, int causal, long window, float *strip, long ld) {
    float qblock[AMR * 256];
    for (long i0 = 0; i0 < nq; i0 += AMR) {
        long mr = nq - i0 < AMR ? nq - i0 : AMR;
        // Rows past the end repeat the last row (computed, not stored).
        const float *qb = q + i0 * ldq;
        long ldqb = ldq;
        if (mr < AMR) {
            for (long i = 0; i < AMR; i++) memcpy(qblock + i * d, q + (i0 + (i < mr ? i : mr - 1)) * ldq, (size_t)d * sizeof(float));
            qb = qblock; ldqb = d;
        }
        long lo[AMR], hi[AMR], j0 = l, j1 = 0;
        for (long i = 0; i < AMR; i++) {
            key_range(pos0 + i0 + (i < mr ? i : mr - 1), l, causal, window, lo + i, hi + i);
            if (lo[i] < j0) j0 = lo[i];
            if (hi[i] > j1) j1 = hi[i];
        }
        j0 = j0 / 16 * 16;
        long j1r = (j1 + 15) / 16 * 16;   // kt has room up to ld columns; extra keys are zeroed
        scores_avx2(qb, ldqb, kt, ld, d, scale, j0, j1r, strip, ld);
        float inv[AMR];
        for (long i = 0; i < AMR; i++) inv[i] = 1.0f / exp_row_avx2(strip + i * ld, j0, j1r, lo[i], hi[i]);
        weighted_values_avx2(strip, ld, v, ldv, j0, j1, d, inv, mr, out + i0 * ldo, ldo);
    }
}
#endif

void vk_attention(const float *q, long ldq, const float *k, long ldk, const float *v, long ldv, float *out, long ldo,
                  long l, long d, float scale, int causal, long window) {
    vk_attention_queries(q, ldq, l, 0, k, ldk, v, ldv, out, ldo, l, d, scale, causal, window);
}

void vk_attention_queries(const float *q, long ldq, long nq, long first_position, const float *k, long ldk,
                          const float *v, long ldv, float *out, long ldo, long l, long d, float scale, int causal, long window) {
    if (l <= 0 || d <= 0 || nq <= 0 || first_position < 0 || first_position + nq > l) return;
#if VK_X86
    if (vk_uses_avx2() && d % 8 == 0 && d <= 256) {
        long ld = (l + 15) / 16 * 16;
        float *buf = scratch_of(ld * d + AMR * ld);
        if (buf) {
            float *kt = buf, *strip = buf + ld * d;
            for (long p = 0; p < d; p++) {
                for (long j = 0; j < l; j++) kt[p * ld + j] = k[j * ldk + p];
                for (long j = l; j < ld; j++) kt[p * ld + j] = 0;
            }
            attention_avx2(q, ldq, nq, first_position, kt, v, ldv, out, ldo, l, d, scale, causal, window, strip, ld);
            return;
        }
    }
#endif
    float *buf = scratch_of(l * d + l);
    if (!buf) return;
    float *kt = buf, *strip = buf + l * d;
    for (long p = 0; p < d; p++) for (long j = 0; j < l; j++) kt[p * l + j] = k[j * ldk + p];
    attention_portable(q, ldq, nq, first_position, kt, v, ldv, out, ldo, l, d, scale, causal, window, strip);
}
