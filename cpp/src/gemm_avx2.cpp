// AVX2/FMA GEMM micro-kernels (compiled with -mavx2 -mfma by CMake because of the suffix).
// Register blocking: up to 6 rows x 16 columns (12 ymm accumulators).
#include <immintrin.h>

#include "gemm_kernels.h"
#include "gemm_simd.h"

namespace nnforge {
namespace detail {
namespace {

// The AVX2 vector ops of gemm_simd.h.
struct Avx2 {
  using reg = __m256;
  using mask = __m256i;
  static constexpr int VL = 8;
  static constexpr float kExpLo = -87.3365447504f, kExpHi = 88.3762626647949f;
  static reg set1(float x) { return _mm256_set1_ps(x); }
  static reg zero() { return _mm256_setzero_ps(); }
  static reg fmadd(reg a, reg b, reg c) { return _mm256_fmadd_ps(a, b, c); }
  static reg fnmadd(reg a, reg b, reg c) { return _mm256_fnmadd_ps(a, b, c); }
  static reg min(reg a, reg b) { return _mm256_min_ps(a, b); }
  static reg max(reg a, reg b) { return _mm256_max_ps(a, b); }
  static reg and_(reg a, reg b) { return _mm256_and_ps(a, b); }
  static reg andnot(reg a, reg b) { return _mm256_andnot_ps(a, b); }
  static reg or_(reg a, reg b) { return _mm256_or_ps(a, b); }
  static reg round(reg x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // y * 2^n, 2^n built in the float exponent field.
  static reg ldexp(reg y, reg n) {
    __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
  }
  static reg select_lt(reg a, reg b, reg t, reg f) {
    return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
  }
  static mask col_mask(int nr, int v) {
    int n = nr - v * VL;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static reg load(const float* p, mask m) { return _mm256_maskload_ps(p, m); }
  static void store(float* p, mask m, reg x) { _mm256_maskstore_ps(p, m, x); }
  // A whole C tile row is loaded and stored unmasked.
  static reg load_tile(const float* p, mask m, bool full) {
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
  }
  static void store_tile(float* p, mask m, reg x, bool full) {
    if (full) _mm256_storeu_ps(p, x);
    else _mm256_maskstore_ps(p, m, x);
  }
};

constexpr int VL = Avx2::VL;

template <int MR, int NV>
void ukr(int64_t kc, const float* __restrict A, const float* __restrict B, float* __restrict C,
         int64_t ldc, int nr, const Epilogue& ep) {
  __m256 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_setzero_ps();

  for (int64_t k = 0; k < kc; ++k) {
    __m256 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm256_load_ps(B + v * VL);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      __m256 a = _mm256_broadcast_ss(A + r);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_fmadd_ps(a, b[v], acc[r][v]);
    }
    A += MR;
    B += NV * VL;
  }

  simd::store_tile<Avx2, MR, NV>(acc, C, ldc, nr, ep);
}

template <int R>
void fill(KernelSet& ks) {
  ks.ukr[R - 1][0] = &ukr<R, 1>;
  ks.ukr[R - 1][1] = &ukr<R, 2>;
  if constexpr (R > 1) fill<R - 1>(ks);
}

KernelSet make() {
  KernelSet ks{};
  ks.name = "avx2";
  ks.MR = 6;
  ks.VL = VL;
  ks.NV = 2;
  ks.KC = 256;
  ks.NC = nc_for_l2(ks.KC, ks.NV * ks.VL, 0.25, 256);  // 256 on a 1 MiB L2
  ks.MC = 6 * 600;
  fill<6>(ks);
  ks.bias_act_row = &simd::bias_act_row<Avx2>;
  return ks;
}

}  // namespace

const KernelSet& kernels_avx2() {
  static const KernelSet ks = make();
  return ks;
}

}  // namespace detail
}  // namespace nnforge
