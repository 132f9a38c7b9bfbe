#include "CVerdictKernels.h"
#include "internal.h"

static int forced_portable = 0;
static int detected = -1;

int vk_uses_avx2(void) {
    if (forced_portable) return 0;
    if (detected < 0) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        detected = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
        detected = 0;
#endif
    }
    return detected;
}

void vk_force_portable(int portable) { forced_portable = portable; }

int vk_cpu_features(void) {
    int f = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) f |= VK_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= VK_CPU_FMA;
    if (__builtin_cpu_supports("f16c")) f |= VK_CPU_F16C;
    if (__builtin_cpu_supports("avx512f")) f |= VK_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= VK_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vnni")) f |= VK_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avxvnni")) f |= VK_CPU_AVXVNNI;
    if (__builtin_cpu_supports("avx512bf16")) f |= VK_CPU_AVX512BF16;
#endif
    return f;
}

#define VK_STRINGIFY2(x) #x
#define VK_STRINGIFY(x) VK_STRINGIFY2(x)
const char *vk_build_commit(void) {
#ifdef VERDICT_COMMIT
    return VK_STRINGIFY(VERDICT_COMMIT);
#else
    return "";
#endif
}

#if defined(__GLIBC__)
#include <malloc.h>
#endif

void vk_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value on 64-bit
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
}
