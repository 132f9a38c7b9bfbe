#include "CVerdictKernels.h"
#include "internal.h"
#include <stdlib.h>
#include <string.h>

static int forced_path = -1;   // -1: the best path, else a VK_PATH_* (at most the best)
static int best_path = -1;     // detected once

// What the CPU can run: AVX-512 needs F, BW, DQ and VL besides AVX2+FMA+F16C (every AVX-512 CPU
// since Skylake-SP has them together); VERDICT_KERNELS=portable|avx2|avx512 caps it, read once.
static int detect_best_path(void) {
    int f = vk_cpu_features(), path = VK_PATH_PORTABLE;
    const int avx2 = VK_CPU_AVX2 | VK_CPU_FMA | VK_CPU_F16C;
    const int avx512 = avx2 | VK_CPU_AVX512F | VK_CPU_AVX512BW | VK_CPU_AVX512DQ | VK_CPU_AVX512VL;
    if ((f & avx2) == avx2) path = VK_PATH_AVX2;
    if ((f & avx512) == avx512) path = VK_PATH_AVX512;
    const char *env = getenv("VERDICT_KERNELS");
    if (env) {
        int cap = !strcmp(env, "portable") ? VK_PATH_PORTABLE : !strcmp(env, "avx2") ? VK_PATH_AVX2 : VK_PATH_AVX512;
        if (cap < path) path = cap;
    }
    return path;
}

int vk_best_kernel_path(void) {
    if (best_path < 0) best_path = detect_best_path();
    return best_path;
}

int vk_kernel_path(void) {
    int best = vk_best_kernel_path();
    return forced_path >= 0 && forced_path < best ? forced_path : best;
}

void vk_force_kernel_path(int path) { forced_path = path; }

int vk_uses_avx2(void) { return vk_kernel_path() >= VK_PATH_AVX2; }

int vk_uses_avx512(void) { return vk_kernel_path() >= VK_PATH_AVX512; }

int vk_uses_avx512vnni(void) { return vk_uses_avx512() && (vk_cpu_features() & VK_CPU_AVX512VNNI); }

void vk_force_portable(int portable) { forced_path = portable ? VK_PATH_PORTABLE : -1; }

int vk_cpu_features(void) {
    static int cached = -1;
    if (cached >= 0) return cached;
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
    cached = f;
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
#include <pthread.h>
#include <stdlib.h>

typedef struct {
    float *buffer[VK_SCRATCH_SLOTS];
    size_t count[VK_SCRATCH_SLOTS];
} scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void free_scratch_set(void *p) {
    scratch_set *set = (scratch_set *)p;
    for (int i = 0; i < VK_SCRATCH_SLOTS; i++) free(set->buffer[i]);
    free(set);
}

static void make_scratch_key(void) { pthread_key_create(&scratch_key, free_scratch_set); }

float *vk_thread_scratch(int slot, size_t count) {
    pthread_once(&scratch_once, make_scratch_key);
    scratch_set *set = (scratch_set *)pthread_getspecific(scratch_key);
    if (set == NULL) {
        set = (scratch_set *)calloc(1, sizeof(scratch_set));
        if (set == NULL || pthread_setspecific(scratch_key, set) != 0) { free(set); return NULL; }
    }
    if (set->count[slot] < count) {
        free(set->buffer[slot]);
        size_t bytes = (count * sizeof(float) + 63) / 64 * 64;   // aligned_alloc wants a multiple of the alignment
        set->buffer[slot] = (float *)aligned_alloc(64, bytes);
        set->count[slot] = set->buffer[slot] ? count : 0;
    }
    return set->buffer[slot];
}

void vk_keep_freed_memory(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's largest allowed value on 64-bit
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 64 << 20);
#endif
}

void vk_limit_arenas(int count) {
#if defined(__GLIBC__)
    mallopt(M_ARENA_MAX, count);
#else
    (void)count;
#endif
}

void vk_release_freed_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
