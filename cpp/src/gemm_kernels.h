// Private to the GEMM implementation: micro-kernel interface shared by gemm.cpp (driver) and the
// ISA-specific micro-kernel files (gemm_avx512.cpp, gemm_avx2.cpp, gemm_generic.cpp).
//
// Packed formats (see gemm.cpp):
//   A micro-panel of mr rows (mr <= MR): for k in [0,kc): mr consecutive floats  A(i0+r, k0+k).
//   B micro-panel of nv vectors (nv*VL >= nr): for k in [0,kc): nv*VL consecutive floats
//     B(k0+k, j0+c), zero-padded for c >= nr.
// A micro-kernel ukr[mr-1][nv-1] computes acc = Apanel @ Bpanel (mr x nv*VL, the k-sum in
// increasing k, one FMA per k per element) and writes the first nr columns of the mr x nr tile:
//   first K block:  C = alpha*acc + beta*C   (beta == 0: C is not read)
//   later K blocks: C = C + alpha*acc        (the driver passes beta = 1)
//   last K block additionally: C = act(C + bias[j])   (bias may be null, act may be Linear)
// Every element's arithmetic is the same whatever mr/nv/thread split, so results do not depend
// on the number of threads.
#pragma once
#include <cstdint>

#include "nnforge/common.h"

namespace nnforge {
namespace detail {

struct Epilogue {
  float alpha;
  float beta;          // 0: C not read
  const float* bias;   // nullptr or &bias[j0]; used only when last
  int act;             // Act as int; used only when last
  bool last;           // last K block: apply bias and act
  // Optional hint (kernels may ignore it), never dereferenced, only prefetched into L2 during
  // the k loop: for ukr, pf_lines cache lines from pf (the next packed A micro-panel); for
  // ukr_direct_t, when pf_lines != 0, the next panel's A read in place, row k at pf + k*lda.
  const float* pf = nullptr;
  int pf_lines = 0;
};

// Same as ukr_fn but A is read in place from row-major storage: A(r, k) = A[r*lda + k].
using ukr_direct_fn = void (*)(int64_t kc, const float* A, int64_t lda, const float* B, float* C,
                               int64_t ldc, int nr, const Epilogue& ep);

using ukr_fn = void (*)(int64_t kc, const float* A, const float* B, float* C, int64_t ldc, int nr,
                        const Epilogue& ep);

constexpr int kMaxMR = 16;
constexpr int kMaxNV = 4;

struct KernelSet {
  const char* name;
  int MR;   // max rows of a micro-tile
  int VL;   // floats per vector
  int NV;   // max vectors per micro-tile row (NR = NV*VL)
  int KC;   // K block
  int NC;   // N block (multiple of NR)
  int MC;   // M block (multiple of MR)
  ukr_fn ukr[kMaxMR][kMaxNV];
  ukr_direct_fn ukr_direct[kMaxMR][kMaxNV];  // nullable: then A is always packed
  // As ukr_direct for A stored transposed (K x M): A(r, k) = A[k*lda + r]. Nullable.
  ukr_direct_fn ukr_direct_t[kMaxMR][kMaxNV];
  // Vectorised in-place epilogue over a contiguous row: x = act(x + bias) (bias may be null).
  void (*bias_act_row)(float* x, const float* bias, int64_t n, int act);
  // Transposing pack (nullable: the driver then uses scalar loops), rows <= lanes <= 16:
  //   dst[k*dst_stride + r] = src[r*lds + k]  for r < rows, k < kc
  //   dst[k*dst_stride + r] = 0               for rows <= r < lanes
  void (*transpose_pack)(const float* src, int64_t lds, int rows, int lanes, int64_t kc,
                         float* dst, int64_t dst_stride);
  // Copying pack (nullable), cols <= w <= 32:
  //   dst[k*w + c] = src[k*lds + c] for c < cols;  0 for cols <= c < w.
  void (*copy_pack)(const float* src, int64_t lds, int cols, int w, int64_t kc, float* dst);
};

// The N block for a K block of kc floats: the widest multiple of nr whose kc x nc packed B
// block takes `share` of this core's L2 (cpu_cache_sizes(), read at run time); `fallback` where
// the L2 size is unknown. Each kernel set's share reproduces the NC it was tuned to on a 1 MiB
// L2 (AMD Zen 5), so a larger L2 (Intel Sapphire Rapids: 2 MiB) gets a proportionally wider
// block. NC changes no arithmetic (it cuts N, never K): results do not depend on it.
int nc_for_l2(int kc, int nr, double share, int fallback);

// Each returns a fully initialised set. The avx512/avx2 ones must only be called (and their
// kernels only run) on a CPU that supports them.
const KernelSet& kernels_avx512();
const KernelSet& kernels_avx2();
const KernelSet& kernels_generic();

// Scalar reference activation (used by the generic kernels and the K == 0 path).
float act_scalar(float x, int act);

}  // namespace detail
}  // namespace nnforge
