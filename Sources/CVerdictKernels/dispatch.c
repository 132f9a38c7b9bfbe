#include "CVerdictKernels.h"
#include "internal.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

// Kernel path selection: what the CPU runs, capped by VERDICT_KERNELS, narrowed by tests.
static _Atomic int forced_path = -1;   // -1: the best path, else a VK_PATH_* (at most the best)
static _Atomic int best_path = -1;     // detected once
static _Atomic int setting_valid = 1;  // 0: VERDICT_KERNELS names no path

// What the CPU can run: AVX-512 needs F, BW, DQ and VL besides AVX2+FMA+F16C (every AVX-512 CPU
// since Skylake-SP has them together); VERDICT_KERNELS=portable|avx2|avx512 caps it, read once.
static int detect_best_path(void) {
    int f = vk_cpu_features(), path = VK_PATH_PORTABLE;
    const int avx2 = VK_CPU_AVX2 | VK_CPU_FMA | VK_CPU_F16C;
    const int avx512 = avx2 | VK_CPU_AVX512F | VK_CPU_AVX512BW | VK_CPU_AVX512DQ | VK_CPU_AVX512VL;
    if ((f & avx2) == avx2) path = VK_PATH_AVX2;
    if ((f & avx512) == avx512) path = VK_PATH_AVX512;
    const char *env = getenv("VERDICT_KERNELS");
    if (env && *env) {
        int cap = !strcmp(env, "portable") ? VK_PATH_PORTABLE : !strcmp(env, "avx2") ? VK_PATH_AVX2
                : !strcmp(env, "avx512") ? VK_PATH_AVX512 : -1;
        // An unknown value is reported (vk_kernel_setting_is_valid) and, meanwhile, caps at the safest path.
        if (cap < 0) { atomic_store(&setting_valid, 0); cap = VK_PATH_PORTABLE; }
        if (cap < path) path = cap;
    }
    return path;
}

int vk_best_kernel_path(void) {
    int best = atomic_load_explicit(&best_path, memory_order_relaxed);
    if (best < 0) {
        best = detect_best_path();   // the same answer on every thread: a race only repeats the detection
        atomic_store(&best_path, best);
    }
    return best;
}

int vk_kernel_setting_is_valid(void) {
    vk_best_kernel_path();
    return atomic_load(&setting_valid);
}

int vk_kernel_path(void) {
    int best = vk_best_kernel_path(), forced = atomic_load_explicit(&forced_path, memory_order_relaxed);
    return forced >= 0 && forced < best ? forced : best;
}

void vk_force_kernel_path(int path) { atomic_store(&forced_path, path); }

int vk_uses_avx2(void) { return vk_kernel_path() >= VK_PATH_AVX2; }

int vk_uses_avx512(void) { return vk_kernel_path() >= VK_PATH_AVX512; }

int vk_uses_avx512vnni(void) { return vk_uses_avx512() && (vk_cpu_features() & VK_CPU_AVX512VNNI); }

int vk_cpu_features(void) {
    static _Atomic int cached = -1;
    int known = atomic_load_explicit(&cached, memory_order_relaxed);
    if (known >= 0) return known;
    int f = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) f |= VK_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= VK_CPU_FMA;
    if (__builtin_cpu_supports("f16c")) f |= VK_CPU_F16C;
    if (__builtin_cpu_supports("avx512f")) f |= VK_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= VK_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512dq")) f |= VK_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512vl")) f |= VK_CPU_AVX512VL;
    if (__builtin_cpu_supports("avx512vnni")) f |= VK_CPU_AVX512VNNI;
    if (__builtin_cpu_supports("avxvnni")) f |= VK_CPU_AVXVNNI;
    if (__builtin_cpu_supports("avx512bf16")) f |= VK_CPU_AVX512BF16;
#endif
    atomic_store(&cached, f);
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
