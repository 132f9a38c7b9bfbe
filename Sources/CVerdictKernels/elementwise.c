// Row-wise and element-wise kernels: layer norm, softmax, GELU, adds, dtype conversions.
#include "CVerdictKernels.h"
#include "internal.h"
#include <math.h>
#include <string.h>
#if VK_X86
#include <immintrin.h>
#endif

// ---- layer norm ------------------------------------------------------------------------------

#if VK_X86
// One row: mean and variance by two passes over 8 float lanes (n is a hidden size: a few
// hundred to a few thousand values, where float sums are accurate to ~1e-7 relative).
VK_AVX2 static void layernorm_row_avx2(const float *xr, const float *gamma, const float *beta, float *yr,
                                       float *mean, float *rstd, long n, float eps) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    long i = 0;
    for (; i + 16 <= n; i += 16) { s0 = _mm256_add_ps(s0, _mm256_loadu_ps(xr + i)); s1 = _mm256_add_ps(s1, _mm256_loadu_ps(xr + i + 8)); }
    float sum = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) sum += xr[i];
    float m = sum / (float)n;
    __m256 vm = _mm256_set1_ps(m);
    s0 = _mm256_setzero_ps(); s1 = _mm256_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(xr + i), vm), d1 = _mm256_sub_ps(_mm256_loadu_ps(xr + i + 8), vm);
        s0 = _mm256_fmadd_ps(d0, d0, s0); s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    float sq = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) { float d = xr[i] - m; sq += d * d; }
    float rs = (float)(1.0 / sqrt((double)sq / (double)n + (double)eps));
    __m256 vrs = _mm256_set1_ps(rs);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 h = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + i), vm), vrs);
        _mm256_storeu_ps(yr + i, _mm256_fmadd_ps(h, _mm256_loadu_ps(gamma + i), _mm256_loadu_ps(beta + i)));
    }
    for (; i < n; i++) yr[i] = (xr[i] - m) * rs * gamma[i] + beta[i];
    if (mean) *mean = m;
    if (rstd) *rstd = rs;
}
#endif

void vk_layernorm(const float *x, const float *gamma, const float *beta, float *y,
                  float *mean, float *rstd, long rows, long n, float eps) {
#if VK_X86
    if (vk_uses_avx2()) {
        for (long r = 0; r < rows; r++)
            layernorm_row_avx2(x + r * n, gamma, beta, y + r * n, mean ? mean + r : NULL, rstd ? rstd + r : NULL, n, eps);
        return;
    }
#endif
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n;
        double sum = 0, sq = 0;
        for (long i = 0; i < n; i++) sum += xr[i];
        double mu = sum / (double)n;
        for (long i = 0; i < n; i++) { double d = xr[i] - mu; sq += d * d; }
        float rs = (float)(1.0 / sqrt(sq / (double)n + (double)eps));
        float m = (float)mu;
        for (long i = 0; i < n; i++) yr[i] = (xr[i] - m) * rs * gamma[i] + beta[i];
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = rs;
    }
}

void vk_layernorm_backward(const float *dy, const float *x, const float *gamma, const float *mean,
                           const float *rstd, float *dx, float *dgamma, float *dbeta, long rows, long n) {
    for (long r = 0; r < rows; r++) {
        const float *dyr = dy + r * n, *xr = x + r * n;
        float *dxr = dx + r * n;
        float m = mean[r], rs = rstd[r];
        double sum_g = 0, sum_gx = 0;
        for (long i = 0; i < n; i++) {
            float xhat = (xr[i] - m) * rs;
            float g = dyr[i] * gamma[i];
            sum_g += g;
            sum_gx += g * xhat;
            if (dgamma) dgamma[i] += dyr[i] * xhat;
            if (dbeta) dbeta[i] += dyr[i];
        }
        float mg = (float)(sum_g / (double)n), mgx = (float)(sum_gx / (double)n);
        for (long i = 0; i < n; i++) {
            float xhat = (xr[i] - m) * rs;
            dxr[i] = rs * (dyr[i] * gamma[i] - mg - xhat * mgx);
        }
    }
}

// ---- exp ------------------------------------------------------------------------------------

#if VK_X86
VK_AVX2 static void softmax_row_avx2(float *x, long n, float scale) {
    long i = 0;
    __m256 vs = _mm256_set1_ps(scale), vmax = _mm256_set1_ps(-INFINITY);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), vs);
        _mm256_storeu_ps(x + i, v);
        vmax = _mm256_max_ps(vmax, v);
    }
    float mx = hmax256(vmax);
    for (; i < n; i++) { x[i] *= scale; if (x[i] > mx) mx = x[i]; }
    __m256 vm = _mm256_set1_ps(mx), vsum = _mm256_setzero_ps();
    float sum = 0;
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        _mm256_storeu_ps(x + i, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    for (; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    sum += hsum256(vsum);
    __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < n; i++) x[i] /= sum;
}

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), odd-extended.
VK_AVX2 static inline __m256 erf256(__m256 x) {
    const __m256 sign = _mm256_and_ps(x, _mm256_set1_ps(-0.0f));
    __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    // t = 1 / (1 + 0.3275911 |x|): reciprocal estimate refined by one Newton step (~1e-7 relative),
    // much cheaper than a division.
    __m256 den = _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), ax, _mm256_set1_ps(1.0f));
    __m256 r0 = _mm256_rcp_ps(den);
    __m256 t = _mm256_mul_ps(r0, _mm256_fnmadd_ps(den, r0, _mm256_set1_ps(2.0f)));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    __m256 e = exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
    __m256 r = _mm256_fnmadd_ps(p, e, _mm256_set1_ps(1.0f));
    return _mm256_or_ps(r, sign);
}

VK_AVX2 static void gelu_avx2(const float *x, float *y, long n) {
    long i = 0;
    const __m256 half = _mm256_set1_ps(0.5f), rs2 = _mm256_set1_ps(0.70710678118654752f), one = _mm256_set1_ps(1.0f);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 e = erf256(_mm256_mul_ps(v, rs2));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(v, half), _mm256_add_ps(one, e)));
    }
    for (; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

VK_AVX2 static void gelu_backward_avx2(const float *dy, const float *x, float *dx, long n) {
    long i = 0;
    const __m256 half = _mm256_set1_ps(0.5f), rs2 = _mm256_set1_ps(0.70710678118654752f), one = _mm256_set1_ps(1.0f);
    const __m256 invsqrt2pi = _mm256_set1_ps(0.3989422804014327f), mhalf = _mm256_set1_ps(-0.5f);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 cdf = _mm256_mul_ps(half, _mm256_add_ps(one, erf256(_mm256_mul_ps(v, rs2))));
        __m256 pdf = _mm256_mul_ps(invsqrt2pi, exp256(_mm256_mul_ps(mhalf, _mm256_mul_ps(v, v))));
        __m256 g = _mm256_fmadd_ps(v, pdf, cdf);
        _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i), g));
    }
    for (; i < n; i++) {
        float cdf = 0.5f * (1.0f + erff(x[i] * 0.70710678118654752f));
        float pdf = 0.3989422804014327f * expf(-0.5f * x[i] * x[i]);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
    }
}
#endif

void vk_softmax_rows(float *x, long rows, long n, long ld, float scale) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * ld;
#if VK_X86
        if (vk_uses_avx2()) { softmax_row_avx2(row, n, scale); continue; }
#endif
        float mx = -INFINITY;
        for (long i = 0; i < n; i++) { row[i] *= scale; if (row[i] > mx) mx = row[i]; }
        float sum = 0;
        for (long i = 0; i < n; i++) { row[i] = expf(row[i] - mx); sum += row[i]; }
        for (long i = 0; i < n; i++) row[i] /= sum;
    }
}

void vk_gelu(const float *x, float *y, long n) {
#if VK_X86
    if (vk_uses_avx2()) { gelu_avx2(x, y, n); return; }
#endif
    for (long i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void vk_gelu_backward(const float *dy, const float *x, float *dx, long n) {
#if VK_X86
    if (vk_uses_avx2()) { gelu_backward_avx2(dy, x, dx, n); return; }
#endif
    for (long i = 0; i < n; i++) {
        float cdf = 0.5f * (1.0f + erff(x[i] * 0.70710678118654752f));
        float pdf = 0.3989422804014327f * expf(-0.5f * x[i] * x[i]);
        dx[i] = dy[i] * (cdf + x[i] * pdf);
    }
}

void vk_gelu_tanh(const float *x, float *y, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        y[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
    }
}

void vk_gelu_tanh_backward(const float *dy, const float *x, float *dx, long n) {
    for (long i = 0; i < n; i++) {
        float v = x[i];
        float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        float t = tanhf(u);
        float du = 0.7978845608028654f * (1.0f + 3.0f * 0.044715f * v * v);
        dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
    }
}

// ---- adds -----------------------------------------------------------------------------------

void vk_add(float *y, const float *x, long n) { for (long i = 0; i < n; i++) y[i] += x[i]; }

void vk_add_bias(float *y, const float *bias, long rows, long n) {
    for (long r = 0; r < rows; r++) { float *row = y + r * n; for (long i = 0; i < n; i++) row[i] += bias[i]; }
}

void vk_sum_rows(const float *x, float *acc, long rows, long n) {
    for (long r = 0; r < rows; r++) { const float *row = x + r * n; for (long i = 0; i < n; i++) acc[i] += row[i]; }
}

// ---- dtype conversions ----------------------------------------------------------------------

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) bits = sign;
        else {  // subnormal: normalise
            exp = 127 - 15 + 1;
            while ((mant & 0x400) == 0) { mant <<= 1; exp--; }
            mant &= 0x3ff;
            bits = sign | (exp << 23) | (mant << 13);
        }
    } else if (exp == 31) bits = sign | 0x7f800000 | (mant << 13);
    else bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    uint32_t mant = x & 0x7fffff;
    if (exp == 255) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int32_t e = exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++;  // may carry into the exponent: correct
    return (uint16_t)(sign | h);
}

#if VK_X86
VK_AVX2 static long f16_to_f32_avx2(const uint16_t *src, float *dst, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    return i;
}
#endif

void vk_f16_to_f32(const uint16_t *src, float *dst, long n) {
    long i = 0;
#if VK_X86
    if (vk_uses_avx2()) i = f16_to_f32_avx2(src, dst, n);  // exact, like the portable path
#endif
    for (; i < n; i++) dst[i] = half_to_float(src[i]);
}

void vk_bf16_to_f32(const uint16_t *src, float *dst, long n) {
    for (long i = 0; i < n; i++) dst[i] = vk_bf16_widen(src[i]);
}

void vk_f32_to_f16(const float *src, uint16_t *dst, long n) { for (long i = 0; i < n; i++) dst[i] = float_to_half(src[i]); }

void vk_f32_to_bf16(const float *src, uint16_t *dst, long n) {
    for (long i = 0; i < n; i++) dst[i] = vk_bf16_round(src[i]);
}
