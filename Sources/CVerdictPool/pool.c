// A small persistent thread pool for the kernels' parallel loops.
//
// Waking a sleeping thread costs tens of microseconds, and a forward pass over one sentence runs
// hundreds of parallel loops of a few microseconds each. The pool's workers therefore spin for a
// short while after each loop (about a millisecond of polling with `pause`) before they sleep on a
// condition variable, so back-to-back loops find them awake. One caller at a time owns the pool;
// a second concurrent caller, or a loop started from inside a loop, runs serially on its own thread.
#include "CVerdictPool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define VK_PAUSE() _mm_pause()
#else
#define VK_PAUSE() ((void)0)
#endif

enum { SPIN_ROUNDS = 20000 };

typedef struct {
    void (*fn)(void *, long);
    void *ctx;
    long count;
} job_t;

static pthread_mutex_t owner = PTHREAD_MUTEX_INITIALIZER;   // held by the caller running a loop
static pthread_mutex_t sleep_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_once_t started = PTHREAD_ONCE_INIT;

static int workers = 0;                 // threads besides the caller
static job_t job;
static atomic_long generation = 0;      // bumped for each loop
static atomic_long next_index = 0;      // dynamic scheduling: the next index to run
static atomic_int busy_workers = 0;     // workers still inside the current loop
static atomic_int sleepers = 0;
static _Thread_local int inside_loop = 0;

static void run_indices(const job_t *j) {
    long i;
    while ((i = atomic_fetch_add_explicit(&next_index, 1, memory_order_relaxed)) < j->count) j->fn(j->ctx, i);
}

static void *worker_main(void *arg) {
    (void)arg;
    inside_loop = 1;
    long seen = 0;
    for (;;) {
        long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen) {
            if (++spins < SPIN_ROUNDS) { VK_PAUSE(); continue; }
            pthread_mutex_lock(&sleep_lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&generation) == seen) pthread_cond_wait(&wake, &sleep_lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&sleep_lock);
            spins = 0;
        }
        seen = g;
        job_t j = job;
        run_indices(&j);
        atomic_fetch_sub_explicit(&busy_workers, 1, memory_order_release);
    }
    return NULL;
}

static int requested_threads = 1;

static void start_workers(void) {
    for (int t = 1; t < requested_threads; t++) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&thread, &attr, worker_main, NULL) == 0) workers++;
        pthread_attr_destroy(&attr);
    }
}

void vk_parallel_for(int threads, long count, void (*fn)(void *, long), void *ctx) {
    if (count <= 0) return;
    if (threads <= 1 || count == 1 || inside_loop || pthread_mutex_trylock(&owner) != 0) {
        for (long i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    requested_threads = threads;
    pthread_once(&started, start_workers);
    if (workers == 0) {
        pthread_mutex_unlock(&owner);
        for (long i = 0; i < count; i++) fn(ctx, i);
        return;
    }
    job.fn = fn; job.ctx = ctx; job.count = count;
    atomic_store_explicit(&next_index, 0, memory_order_relaxed);
    atomic_store_explicit(&busy_workers, workers, memory_order_relaxed);
    atomic_fetch_add(&generation, 1);   // sequentially consistent: ordered before the sleepers check
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&sleep_lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&sleep_lock);
    }
    inside_loop = 1;
    run_indices(&job);
    inside_loop = 0;
    while (atomic_load_explicit(&busy_workers, memory_order_acquire) > 0) VK_PAUSE();
    pthread_mutex_unlock(&owner);
}
