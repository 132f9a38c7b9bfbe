// Peak arithmetic loops: the ceiling the matrix multiplies are measured against
// (`verdict bench-kernels`), one per kernel path: the instructions that path's kernels use. Each runs independent accumulator chains long enough to hide
// latency, on one thread; callers run one per core.
#include "CVerdictKernels.h"
#include "internal.h"
#if VK_X86
#include <immintrin.h>
#endif

#if VK_X86
// 12 chains of FMA: 2 * 8 * 12 flops per iteration.
VK_AVX2 static float fma_loop(long iterations) {
    __m256 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps(1e-3f * (float)i);
    const __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (long k = 0; k < iterations; k++) {
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], b, c);
        __asm__ volatile("" : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]), "+x"(a[4]), "+x"(a[5]));
    }
    float s = 0;
    for (int i = 0; i < 12; i++) s += a[i][0];
    return s;
}

// The same 12 chains on zmm registers: 2 * 16 * 12 flops per iteration.
VK_AVX512 static float fma512_loop(long iterations) {
    __m512 a[12];
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps(1e-3f * (float)i);
    const __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (long k = 0; k < iterations; k++) {
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], b, c);
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]));
    }
    float s = 0;
    for (int i = 0; i < 12; i++) s += _mm512_reduce_add_ps(a[i]);
    return s;
}

// 8 chains of u8 x s8 -> int32 dot products as the int8 kernel computes them
// (vpmaddubsw + vpmaddwd + vpaddd), 8 distinct products per iteration (2 activations x 4
// weights, opaque to the compiler so none is hoisted or shared): 2 * 32 * 8 ops per iteration.
VK_AVX2 static int int8_loop(long iterations) {
    __m256i acc[8];
    for (int i = 0; i < 8; i++) acc[i] = _mm256_set1_epi32(i);
    __m256i x0 = _mm256_set1_epi8(3), x1 = _mm256_set1_epi8(9);
    __m256i w0 = _mm256_set1_epi8(5), w1 = _mm256_set1_epi8(-7), w2 = _mm256_set1_epi8(11), w3 = _mm256_set1_epi8(-13);
    const __m256i one = _mm256_set1_epi16(1);
#define VK_DOT(i, x, w) acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), one))
    for (long k = 0; k < iterations; k++) {
        VK_DOT(0, x0, w0); VK_DOT(1, x0, w1); VK_DOT(2, x0, w2); VK_DOT(3, x0, w3);
        VK_DOT(4, x1, w0); VK_DOT(5, x1, w1); VK_DOT(6, x1, w2); VK_DOT(7, x1, w3);
        __asm__ volatile("" : "+x"(x0), "+x"(x1), "+x"(w0), "+x"(w1), "+x"(w2), "+x"(w3));
    }
#undef VK_DOT
    int s = 0;
    for (int i = 0; i < 8; i++) s += _mm256_extract_epi32(acc[i], 0);
    return s;
}

// 12 chains of vpdpbusd on zmm (the AVX-512 VNNI int8 kernel's instruction); the operands are
// made opaque each iteration so nothing is hoisted: 2 * 64 * 12 ops per iteration.
VK_AVX512VNNI static int vnni_loop(long iterations) {
    __m512i acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_epi32(i);
    __m512i x = _mm512_set1_epi8(3), w = _mm512_set1_epi8(-7);
    for (long k = 0; k < iterations; k++) {
        for (int i = 0; i < 12; i++) acc[i] = _mm512_dpbusd_epi32(acc[i], x, w);
        __asm__ volatile("" : "+v"(x), "+v"(w));
    }
    int s = 0;
    for (int i = 0; i < 12; i++) s += _mm512_reduce_add_epi32(acc[i]);
    return s;
}
#endif

double vk_peak_loop(int int8, long iterations, float *sink) {
#if VK_X86
    if (vk_uses_avx2()) {
        if (int8 && vk_uses_avx512vnni()) { *sink = (float)vnni_loop(iterations); return 2.0 * 64 * 12 * (double)iterations; }
        if (int8) { *sink = (float)int8_loop(iterations); return 2.0 * 32 * 8 * (double)iterations; }
        if (!int8 && vk_uses_avx512()) { *sink = fma512_loop(iterations); return 2.0 * 16 * 12 * (double)iterations; }
        *sink = fma_loop(iterations);
        return 2.0 * 8 * 12 * (double)iterations;
    }
#endif
    // Portable: a scalar multiply-add chain (what the portable kernels can reach at best).
    float a[8] = {0}, s = 0;
    for (long k = 0; k < iterations; k++) for (int i = 0; i < 8; i++) a[i] = a[i] * 0.999999f + 1e-7f;
    for (int i = 0; i < 8; i++) s += a[i];
    *sink = s;
    return 2.0 * 8 * (double)iterations;
}
