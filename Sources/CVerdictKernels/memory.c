// Memory of the kernels: per-thread scratch buffers, and the glibc allocator settings that
// VerdictTensor's Allocator offers (the command line and the server opt in; the library does not).
#include "CVerdictKernels.h"
#include "internal.h"
#include <stdatomic.h>
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

// Tests make every scratch request fail, to see the kernels report it (vk_fail_scratch_allocations).
static _Atomic int failing = 0;

void vk_fail_scratch_allocations(int fail) { atomic_store(&failing, fail != 0); }

float *vk_thread_scratch(int slot, size_t count) {
    if (atomic_load_explicit(&failing, memory_order_relaxed)) return NULL;
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
