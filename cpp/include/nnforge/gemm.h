// Single-precision GEMM, row-major, BLIS-style (packed panels, register-blocked micro-kernel),
// with AVX-512 / AVX2 / portable micro-kernels chosen at run time.
#pragma once
#include <cstdint>
#include "nnforge/common.h"

namespace nnforge {

// C[M,N] = alpha * op(A) @ op(B) + beta * C
//   op(A) is M x K: A is stored M x K (lda >= K) or, with trans_a, K x M (lda >= M).
//   op(B) is K x N: B is stored K x N (ldb >= N) or, with trans_b, N x K (ldb >= K).
//   C is M x N with row stride ldc >= N. beta == 0 means C is not read (may hold NaN).
// M, N or K may be 0 (K == 0: C = beta * C). The K reduction is never split across threads,
// so the result is bitwise the same for any thread count.
// The blocking the run-time dispatch chose (micro-tile MR x NR, K block KC, N block NC from the
// L2 size, M chunk MC), for tests and benchmarks.
struct GemmBlocking {
  const char* isa;
  int MR, NR, KC, NC, MC;
};
GemmBlocking gemm_blocking();

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc);

// C = act(op(A) @ op(B) + bias) with bias[N] (nullable) and act fused into the output pass.
void sgemm_bias_act(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                    const float* A, int64_t lda, const float* B, int64_t ldb,
                    const float* bias, Act act, float* C, int64_t ldc);

}  // namespace nnforge
