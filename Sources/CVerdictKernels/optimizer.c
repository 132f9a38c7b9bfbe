// The optimizer step's kernels: AdamW over one parameter tensor, and the sum of squares and
// scaling of gradient clipping. Memory-bound loops over every parameter of the model, once a step.
#include "CVerdictKernels.h"
#include "internal.h"
#include <math.h>
#if VK_X86
#include <immintrin.h>
#endif

// Separate multiplies and adds, in the order the Swift reference writes them: both paths give
// the same bits (no fused multiply-add contracted behind our back).
#pragma clang fp contract(off)

static void adamw_portable(float *p, float *m, float *v, const float *g, long n, float decay,
                           float beta1, float beta2, float step_size, float bc2_sqrt, float eps) {
    for (long i = 0; i < n; i++) {
        float gi = g[i];
        p[i] *= decay;
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        p[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
    }
}

#if VK_X86
VK_AVX2 static void adamw_avx2(float *p, float *m, float *v, const float *g, long n, float decay,
                               float beta1, float beta2, float step_size, float bc2_sqrt, float eps) {
    const __m256 vdecay = _mm256_set1_ps(decay), b1 = _mm256_set1_ps(beta1), b2 = _mm256_set1_ps(beta2);
    const __m256 c1 = _mm256_set1_ps(1 - beta1), c2 = _mm256_set1_ps(1 - beta2);
    const __m256 vstep = _mm256_set1_ps(step_size), vbc2 = _mm256_set1_ps(bc2_sqrt), veps = _mm256_set1_ps(eps);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_loadu_ps(g + i);
        __m256 pi = _mm256_mul_ps(_mm256_loadu_ps(p + i), vdecay);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)), _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
        __m256 denominator = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), vbc2), veps);
        pi = _mm256_sub_ps(pi, _mm256_div_ps(_mm256_mul_ps(vstep, mi), denominator));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(p + i, pi);
    }
    adamw_portable(p + i, m + i, v + i, g + i, n - i, decay, beta1, beta2, step_size, bc2_sqrt, eps);
}

VK_AVX2 static double sum_squares_avx2(const float *x, long n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(x + i)), hi = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
        s0 = _mm256_fmadd_pd(lo, lo, s0);
        s1 = _mm256_fmadd_pd(hi, hi, s1);
    }
    __m256d s = _mm256_add_pd(s0, s1);
    __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    double total = _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
    for (; i < n; i++) total += (double)x[i] * (double)x[i];
    return total;
}
#endif

void vk_adamw(float *p, float *m, float *v, const float *g, long n, float decay,
              float beta1, float beta2, float step_size, float bc2_sqrt, float eps) {
#if VK_X86
    if (vk_uses_avx2()) { adamw_avx2(p, m, v, g, n, decay, beta1, beta2, step_size, bc2_sqrt, eps); return; }
#endif
    adamw_portable(p, m, v, g, n, decay, beta1, beta2, step_size, bc2_sqrt, eps);
}

double vk_sum_squares(const float *x, long n) {
#if VK_X86
    if (vk_uses_avx2()) return sum_squares_avx2(x, n);
#endif
    double total = 0;
    for (long i = 0; i < n; i++) total += (double)x[i] * (double)x[i];
    return total;
}

void vk_scale(float *x, long n, float factor) {
    for (long i = 0; i < n; i++) x[i] *= factor;
}
