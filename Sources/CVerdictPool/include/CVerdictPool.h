#ifndef CVERDICT_POOL_H
#define CVERDICT_POOL_H

// The one thread pool of Verdict, on its own so that what needs parallel loops (the tokenizers,
// datasets) does not pull in the numeric kernels.

#ifdef __cplusplus
extern "C" {
#endif

/// Runs fn(ctx, i) for i in 0 ..< count on up to `threads` threads of a persistent pool whose
/// workers stay awake briefly between loops (see pool.c). Indices are handed out dynamically.
/// Serial when threads <= 1, from inside another loop, or while another caller owns the pool.
void vk_parallel_for(int threads, long count, void (*fn)(void *ctx, long index), void *ctx);

#ifdef __cplusplus
}
#endif
#endif
