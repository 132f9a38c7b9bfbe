#include "CVerdictKernels.h"
#include "internal.h"

static int forced_portable = 0;
static int detected = -1;

int vk_uses_avx2(void) {
    if (forced_portable) return 0;
    if (detected < 0) {
        const int needed = VK_CPU_AVX2 | VK_CPU_FMA | VK_CPU_F16C;
        detected = (vk_cpu_features() & needed) == needed;
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
