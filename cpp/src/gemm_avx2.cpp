// AVX2/FMA GEMM micro-kernels (compiled with -mavx2 -mfma by CMake because of the suffix).
// Register blocking: up to 6 rows x 16 columns (12 ymm accumulators).
#include <immintrin.h>

#include "gemm_kernels.h"

namespace nnforge {
namespace detail {
namespace {

constexpr int VL = 8;

inline __m256 exp256(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f),
                    _mm256_max_ps(_mm256_set1_ps(-87.3365447504f), x));
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

inline __m256 sigmoid256(__m256 x) {
  __m256 one = _mm256_set1_ps(1.f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

inline __m256 tanh256(__m256 x) {
  const __m256 sign = _mm256_set1_ps(-0.f);
  __m256 ax = _mm256_andnot_ps(sign, x);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745E-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954E-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531E-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036E-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422E-1f));
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  __m256 e = exp256(_mm256_add_ps(ax, ax));
  __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.f),
                             _mm256_div_ps(_mm256_set1_ps(2.f), _mm256_add_ps(e, _mm256_set1_ps(1.f))));
  big = _mm256_or_ps(big, _mm256_and_ps(sign, x));
  __m256 is_small = _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ);
  return _mm256_blendv_ps(big, small, is_small);
}

inline __m256 apply_act(__m256 x, int act) {
  switch (act) {
    case 1: return _mm256_max_ps(_mm256_setzero_ps(), x);
    case 2: return sigmoid256(x);
    case 3: return tanh256(x);
    default: return x;
  }
}

inline __m256i col_mask(int nr, int v) {
  int n = nr - v * VL;
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

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

  const __m256 alpha = _mm256_set1_ps(ep.alpha);
  const bool use_beta = ep.beta != 0.f;
  const __m256 beta = _mm256_set1_ps(ep.beta);
  const bool use_bias = ep.last && ep.bias != nullptr;
  const bool full = nr == NV * VL;
  __m256i m[NV];
  __m256 bias[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    m[v] = col_mask(nr, v);
    bias[v] = use_bias ? _mm256_maskload_ps(ep.bias + v * VL, m[v]) : _mm256_setzero_ps();
  }
  const int act = ep.last ? ep.act : 0;
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    float* c = C + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      __m256 x = _mm256_mul_ps(alpha, acc[r][v]);
      if (use_beta) {
        __m256 cv = full ? _mm256_loadu_ps(c + v * VL) : _mm256_maskload_ps(c + v * VL, m[v]);
        x = _mm256_fmadd_ps(beta, cv, x);
      }
      if (use_bias) x = _mm256_add_ps(x, bias[v]);
      if (act) x = apply_act(x, act);
      if (full) _mm256_storeu_ps(c + v * VL, x);
      else _mm256_maskstore_ps(c + v * VL, m[v], x);
    }
  }
}

void bias_act_row(float* x, const float* bias, int64_t n, int act) {
  for (int64_t j = 0; j < n; j += VL) {
    __m256i m = col_mask(static_cast<int>(n - j < VL ? n - j : VL), 0);
    __m256 v = _mm256_maskload_ps(x + j, m);
    if (bias) v = _mm256_add_ps(v, _mm256_maskload_ps(bias + j, m));
    v = apply_act(v, act);
    _mm256_maskstore_ps(x + j, m, v);
  }
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
  ks.bias_act_row = &bias_act_row;
  return ks;
}

}  // namespace

const KernelSet& kernels_avx2() {
  static const KernelSet ks = make();
  return ks;
}

}  // namespace detail
}  // namespace nnforge
