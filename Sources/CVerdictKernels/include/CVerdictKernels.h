#ifndef CVERDICT_KERNELS_H
#define CVERDICT_KERNELS_H

// Hot numeric kernels of Verdict. Each entry point picks its implementation at run time from the
// kernel path (vk_kernel_path): AVX-512 where the CPU has it and there is one, else AVX2+FMA,
// else portable C. All kernels are single-threaded: callers
// split work across cores (see VerdictTensor's Parallel).

#include <stddef.h>
#include <stdint.h>
#include "CVerdictPool.h"   // vk_parallel_for: the kernels' parallel loops (vk_sgemm_parallel)

#ifdef __cplusplus
extern "C" {
#endif

/// What the kernels that can fail return: VK_OK, or why they did nothing (their output untouched).
/// VK_ERROR_ARGUMENT: sizes or offsets that do not fit; VK_ERROR_MEMORY: no scratch memory.
enum { VK_OK = 0, VK_ERROR_ARGUMENT = -1, VK_ERROR_MEMORY = -2 };

/// Kernel paths, each a superset of the one before it.
enum { VK_PATH_PORTABLE = 0, VK_PATH_AVX2 = 1, VK_PATH_AVX512 = 2 };
/// The widest path this CPU runs (AVX2 needs AVX2+FMA+F16C; AVX-512 needs F, BW, DQ and VL too),
/// capped by the environment variable VERDICT_KERNELS=portable|avx2|avx512 read at the first call.
int vk_best_kernel_path(void);
/// 0 when VERDICT_KERNELS is set to none of portable, avx2, avx512 (the kernels then run the
/// portable path; VerdictTensor reports the setting as an error).
int vk_kernel_setting_is_valid(void);
/// The path in use: vk_best_kernel_path, or a narrower one forced by vk_force_kernel_path.
int vk_kernel_path(void);
/// Forces a path (for tests and comparisons; one wider than the CPU's best is not taken); -1
/// restores the best.
void vk_force_kernel_path(int path);
/// 1 when the AVX2+FMA kernels are in use.
int vk_uses_avx2(void);
/// 1 when the AVX-512 kernels are in use.
int vk_uses_avx512(void);
/// 1 when the int8 multiply uses AVX-512 VNNI (`vpdpbusd` on zmm): the AVX-512 path on a CPU with VNNI.
int vk_uses_avx512vnni(void);
/// The CPU's vector features as detected at run time (VK_CPU_* bits), whatever path is in use.
int vk_cpu_features(void);
enum {
    VK_CPU_AVX2 = 1, VK_CPU_FMA = 2, VK_CPU_F16C = 4, VK_CPU_AVX512F = 8, VK_CPU_AVX512BW = 16,
    VK_CPU_AVX512VNNI = 32, VK_CPU_AVXVNNI = 64, VK_CPU_AVX512BF16 = 128, VK_CPU_AVX512DQ = 256,
    VK_CPU_AVX512VL = 512
};
/// The commit the kernels were built from when the build passed -DVERDICT_COMMIT=<sha>
/// (`make install` does), else an empty string.
const char *vk_build_commit(void);
/// Runs the path's peak arithmetic loop (fp32 FMA, or with int8 the u8 x s8 dot product of the
/// int8 kernel) for `iterations` on the calling thread; returns the operations done (flops, or
/// int8 multiply-adds counted as 2). `sink` keeps the result alive.
double vk_peak_loop(int int8, long iterations, float *sink);
/// Makes every per-thread scratch request fail while `fail` is 1 (tests of the kernels' error reports).
void vk_fail_scratch_allocations(int fail);
/// glibc: keep freed memory in the process for reuse (see VerdictTensor's Allocator). Elsewhere a no-op.
void vk_keep_freed_memory(void);
/// glibc: return the freed memory of every arena to the kernel (malloc_trim). Elsewhere a no-op.
void vk_release_freed_memory(void);
/// glibc: at most `count` malloc arenas for threads created from now on. Elsewhere a no-op.
void vk_limit_arenas(int count);

/// C[M,N] = alpha * op(A) * op(B) + beta * C, row-major; op(A) is [M,K], op(B) is [K,N].
/// transA: A is stored [K,M]; transB: B is stored [N,K] (a PyTorch Linear weight).
/// Returns VK_OK, VK_ERROR_ARGUMENT or VK_ERROR_MEMORY (C untouched).
int vk_sgemm(int transA, int transB, long M, long N, long K, float alpha,
             const float *A, long lda, const float *B, long ldb, float beta, float *C, long ldc);

/// vk_sgemm (plus `bias`, one value per column added to every row; may be NULL) on `threads`
/// threads of the pool: they pack op(B) once together (into the calling thread's scratch), then
/// multiply blocks of rows. Returns 1 when done; 0, doing nothing, when it would not split (threads < 2,
/// fewer than 6 rows per thread) or the shared scratch cannot be allocated: the caller then multiplies
/// itself; VK_ERROR_MEMORY when a thread's own scratch could not be allocated (C partly written).
int vk_sgemm_parallel(int threads, int transA, int transB, long M, long N, long K, float alpha,
                      const float *A, long lda, const float *B, long ldb, float beta, const float *bias, float *C, long ldc);

/// Number of floats of a pre-packed op(B) of shape [K, N] (see vk_pack_b).
long vk_packed_b_count(long N, long K);
/// The K-block depth the multiply uses on the current path (256, or 768 on the AVX-512 path); pass
/// it to vk_pack_b and keep it with the packed matrix: every call on it takes the same depth.
long vk_pack_depth(void);
/// Packs op(B) ([K, N]; stored [N, K] when transB) once, for repeated vk_sgemm_packed calls
/// (a model's Linear weights at inference), in K blocks of `kb` (vk_pack_depth()). `packed` holds
/// vk_packed_b_count floats, 32-byte aligned.
void vk_pack_b(int transB, long N, long K, const float *B, long ldb, long kb, float *packed);
/// The inverse of vk_pack_b(1, N, K, B, K, kb, packed): writes the row-major [N, K] matrix B.
void vk_unpack_b(long N, long K, long kb, const float *packed, float *B);
/// vk_sgemm with B pre-packed: C[M, N] = alpha * op(A) * B[:, n0 ..< n0 + N] + beta * C + bias[n0 ..< n0 + N]
/// (bias: one value per packed column, added to every row; may be NULL), where the packed matrix
/// has `packed_n` columns, was packed in K blocks of `kb`, and n0 is a multiple of 16 (column
/// chunks for threads). With beta 0, C is only written (no zeroing pass). Returns VK_OK or an error (C untouched).
int vk_sgemm_packed(int transA, long M, long N, long K, float alpha, const float *A, long lda,
                    const float *packed, long packed_n, long n0, long kb, float beta, const float *bias, float *C, long ldc);

/// vk_pack_b in bfloat16 (rounded to nearest, ties to even): the same panels at half the memory,
/// each 16-wide row in the order vk_sgemm_packed_bf16's kernel widens; `packed` holds
/// vk_packed_b_count values, 32-byte aligned.
void vk_pack_b_bf16(int transB, long N, long K, const float *B, long ldb, long kb, uint16_t *packed);
/// The inverse of vk_pack_b_bf16(1, N, K, B, K, kb, packed): the rounded weights as floats, [N, K].
void vk_unpack_b_bf16(long N, long K, long kb, const uint16_t *packed, float *B);
/// vk_sgemm_packed with bfloat16 panels: each weight is widened to float exactly in registers and
/// the products summed in float, so the result is the float multiply by the rounded weights.
int vk_sgemm_packed_bf16(int transA, long M, long N, long K, float alpha, const float *A, long lda,
                         const uint16_t *packed, long packed_n, long n0, long kb, float beta, const float *bias, float *C, long ldc);

/// y = LayerNorm(x) * gamma + beta over rows of length n; writes mean and 1/std per row when non-null.
void vk_layernorm(const float *x, const float *gamma, const float *beta, float *y,
                  float *mean, float *rstd, long rows, long n, float eps);
/// Backward of vk_layernorm: dx (overwritten), dgamma and dbeta (accumulated).
void vk_layernorm_backward(const float *dy, const float *x, const float *gamma, const float *mean,
                           const float *rstd, float *dx, float *dgamma, float *dbeta, long rows, long n);

/// Attention of one (sequence, head) for inference: out[i, :] = Σ_j softmax_j(scale · q_i · k_j) v_j
/// over the keys j query i may see (all; j <= i when causal; |i - j| <= window when window >= 0,
/// and j <= i as well when both). q, k, v, out are [l, d] with row strides ldq, ldk, ldv, ldo.
/// Never holds more than 4 rows of scores; uses a per-thread scratch of about (l + 4) * d floats.
/// Returns VK_OK or an error (out untouched).
int vk_attention(const float *q, long ldq, const float *k, long ldk, const float *v, long ldv, float *out, long ldo,
                 long l, long d, float scale, int causal, long window);
/// vk_attention for `nq` query rows only, the queries at positions first_position ..< first_position + nq
/// of the l keys (q and out have nq rows). Each row's result is bit for bit the one vk_attention gives
/// it. VK_ERROR_ARGUMENT when the positions lie outside [0, l).
int vk_attention_queries(const float *q, long ldq, long nq, long first_position, const float *k, long ldk,
                         const float *v, long ldv, float *out, long ldo, long l, long d, float scale, int causal, long window);

/// In-place softmax over each row of length n (row stride ld), after multiplying by scale.
void vk_softmax_rows(float *x, long rows, long n, long ld, float scale);

/// GELU, erf form: y = x * 0.5 * (1 + erf(x / sqrt(2))). In place allowed.
void vk_gelu(const float *x, float *y, long n);
/// dx = dy * GELU'(x).
void vk_gelu_backward(const float *dy, const float *x, float *dx, long n);
/// GELU, tanh approximation ("gelu_new", "gelu_pytorch_tanh").
void vk_gelu_tanh(const float *x, float *y, long n);
void vk_gelu_tanh_backward(const float *dy, const float *x, float *dx, long n);

/// y[i] += x[i]
void vk_add(float *y, const float *x, long n);
/// y[r, :] += bias for each of rows.
void vk_add_bias(float *y, const float *bias, long rows, long n);
/// acc[:] += sum over rows of x[r, :]
void vk_sum_rows(const float *x, float *acc, long rows, long n);

/// One AdamW step over n parameters, as torch.optim.AdamW: p *= decay; m = beta1 m + (1 - beta1) g;
/// v = beta2 v + (1 - beta2) g²; p -= step_size · m / (√v / bc2_sqrt + eps). Every path rounds the
/// same operations in the same order, so they agree bit for bit.
void vk_adamw(float *p, float *m, float *v, const float *g, long n, float decay,
              float beta1, float beta2, float step_size, float bc2_sqrt, float eps);
/// Σ x[i]², accumulated in double precision.
double vk_sum_squares(const float *x, long n);
/// x[i] *= factor
void vk_scale(float *x, long n, float factor);
/// An inverted-dropout mask: out[i] = keep when draw i of a SplitMix64 generator in `state`
/// (draw i uses state + (i + 1) · 0x9E3779B97F4A7C15; its unit float is (z >> 40) · 2⁻²⁴) is at
/// least p, else 0. The same values as Verdict's Swift `SplitMix64` drawing one after another.
void vk_dropout_mask(uint64_t state, long count, float p, float keep, float *out);

/// Half and bfloat16 conversions (IEEE round to nearest even when narrowing).
void vk_f16_to_f32(const uint16_t *src, float *dst, long n);
void vk_bf16_to_f32(const uint16_t *src, float *dst, long n);
void vk_f32_to_f16(const float *src, uint16_t *dst, long n);
void vk_f32_to_bf16(const float *src, uint16_t *dst, long n);

// ---- int8 (dynamic quantisation; see qgemm.c for the scheme) --------------------------------

/// The largest magnitude of a quantised weight: weights are 7-bit ([-63, 63]) so that the AVX2
/// u8 x s8 product never saturates and every path sums exactly the same integers.
#define VK_QWEIGHT_MAX 63

/// K rounded up to a multiple of 4 (the row stride of quantised activations, at least).
long vk_qdepth(long K);
/// Bytes of a packed int8 weight of N output channels and K input features.
long vk_qpacked_b_bytes(long N, long K);
/// Quantises a row-major [N, K] weight per output channel: q = round(w / scale) in
/// [-VK_QWEIGHT_MAX, VK_QWEIGHT_MAX], scale = max |w| / VK_QWEIGHT_MAX (1 for an all-zero row).
void vk_quantize_weights(const float *W, long N, long K, int8_t *q, float *scale);
/// Packs a quantised [N, K] weight (vk_qpacked_b_bytes bytes, 32-byte aligned) and writes the sum
/// of each channel's quantised weights into colsum (N rounded up to 16 entries). Returns VK_OK, or
/// VK_ERROR_ARGUMENT (packing nothing) when a value lies outside [-VK_QWEIGHT_MAX, VK_QWEIGHT_MAX].
int vk_qpack_b(long N, long K, const int8_t *q, int8_t *packed, int32_t *colsum);
/// The inverse of vk_qpack_b: the quantised [N, K] weight.
void vk_qunpack_b(long N, long K, const int8_t *packed, int8_t *q);
/// Quantises each row of x ([rows, K], stride ldx) to unsigned 8 bits with its own scale and zero
/// point (x ~ scale * (q - zero)); rows of q have stride ldq >= vk_qdepth(K), padded with the zero point.
void vk_quantize_rows(const float *x, long rows, long K, long ldx, uint8_t *q, long ldq, float *scale, int32_t *zero);
/// C[M, N] = dequantised (qa . packedᵀ) + bias for the packed columns n0 ..< n0 + N (n0 a multiple
/// of 16): C[i, j] = scale_a[i] * scale_w[n0 + j] * Σ_k (qa[i, k] - zero_a[i]) * w[n0 + j, k] + bias[n0 + j].
/// bias may be NULL. Overwrites C. Returns VK_OK or VK_ERROR_ARGUMENT (C untouched).
int vk_qgemm(long M, long N, long K, const uint8_t *qa, long ldq, const float *scale_a, const int32_t *zero_a,
             const int8_t *packed, const int32_t *colsum, const float *scale_w, const float *bias,
             long packed_n, long n0, float *C, long ldc);

#ifdef __cplusplus
}
#endif
#endif
