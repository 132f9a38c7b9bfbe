// Inverted-dropout masks from SplitMix64, four draws at a time: the same draws, and so the same
// masks, as the Swift generator (`SplitMix64.nextUnitFloat`) drawing one after another.
#include "CVerdictKernels.h"
#include "internal.h"

static const uint64_t increment = 0x9E3779B97F4A7C15ull, mix1 = 0xBF58476D1CE4E5B9ull, mix2 = 0x94D049BB133111EBull;

static inline uint64_t splitmix(uint64_t z) {
    z = (z ^ (z >> 30)) * mix1;
    z = (z ^ (z >> 27)) * mix2;
    return z ^ (z >> 31);
}

// Draw i's unit float, (z >> 40) · 2⁻²⁴, compared with p: keep or 0.
static void mask_portable(uint64_t state, long count, float p, float keep, float *out) {
    for (long i = 0; i < count; i++) {
        state += increment;
        float u = (float)(splitmix(state) >> 40) * 0x1p-24f;
        out[i] = u >= p ? keep : 0.0f;
    }
}

#if VK_X86
// The low 64 bits of a · c per lane (AVX2 multiplies 32 × 32 → 64 only).
VK_AVX2 static inline __m256i mul64(__m256i a, uint64_t c) {
    const __m256i lo = _mm256_set1_epi64x((long long)(c & 0xffffffffu)), hi = _mm256_set1_epi64x((long long)(c >> 32));
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(a, hi), _mm256_mul_epu32(_mm256_srli_epi64(a, 32), lo));
    return _mm256_add_epi64(_mm256_mul_epu32(a, lo), _mm256_slli_epi64(cross, 32));
}

VK_AVX2 static inline __m128 unit_floats(__m256i s) {
    __m256i z = _mm256_xor_si256(s, _mm256_srli_epi64(s, 30));
    z = mul64(z, mix1);
    z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 27));
    z = mul64(z, mix2);
    z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
    __m256i top = _mm256_srli_epi64(z, 40);   // 24 bits in each lane's low half
    __m256i packed = _mm256_permutevar8x32_epi32(top, _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6));
    return _mm_mul_ps(_mm_cvtepi32_ps(_mm256_castsi256_si128(packed)), _mm_set1_ps(0x1p-24f));
}

VK_AVX2 static void mask_avx2(uint64_t state, long count, float p, float keep, float *out) {
    const __m256i step = _mm256_set1_epi64x((long long)(4 * increment));
    __m256i s = _mm256_setr_epi64x((long long)(state + increment), (long long)(state + 2 * increment),
                                   (long long)(state + 3 * increment), (long long)(state + 4 * increment));
    const __m128 threshold = _mm_set1_ps(p), kept = _mm_set1_ps(keep);
    long i = 0;
    for (; i + 4 <= count; i += 4) {
        __m128 u = unit_floats(s);
        _mm_storeu_ps(out + i, _mm_and_ps(_mm_cmp_ps(u, threshold, _CMP_GE_OQ), kept));
        s = _mm256_add_epi64(s, step);
    }
    mask_portable(state + (uint64_t)i * increment, count - i, p, keep, out + i);
}
#endif

void vk_dropout_mask(uint64_t state, long count, float p, float keep, float *out) {
#if VK_X86
    if (vk_uses_avx2()) { mask_avx2(state, count, p, keep, out); return; }
#endif
    mask_portable(state, count, p, keep, out);
}
