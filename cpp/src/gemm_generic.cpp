// Portable GEMM micro-kernels (no ISA flags: whatever the baseline x86-64/other target gives).
// Register blocking: up to 4 rows x 16 columns in "vectors" of 4 floats (plain arrays the compiler
// may vectorise). Same packing and epilogue contract as the SIMD kernels (gemm_kernels.h).
#include <cmath>

#include "gemm_kernels.h"

namespace nnforge {
namespace detail {

float act_scalar(float x, int act) {
  switch (act) {
    case 1: return x > 0.f ? x : (x != x ? x : 0.f);
    case 2: return 1.f / (1.f + std::exp(-x));
    case 3: return std::tanh(x);
    default: return x;
  }
}

namespace {

constexpr int VL = 4;

template <int MR, int NV>
void ukr(int64_t kc, const float* __restrict A, const float* __restrict B, float* __restrict C,
         int64_t ldc, int nr, const Epilogue& ep) {
  constexpr int W = NV * VL;
  float acc[MR][W] = {};
  for (int64_t k = 0; k < kc; ++k) {
    for (int r = 0; r < MR; ++r) {
      const float a = A[r];
      for (int c = 0; c < W; ++c) acc[r][c] += a * B[c];
    }
    A += MR;
    B += W;
  }
  const bool use_bias = ep.last && ep.bias != nullptr;
  const int act = ep.last ? ep.act : 0;
  for (int r = 0; r < MR; ++r) {
    float* c = C + r * ldc;
    for (int j = 0; j < nr; ++j) {
      float x = ep.alpha * acc[r][j];
      if (ep.beta != 0.f) x = ep.beta * c[j] + x;
      if (use_bias) x = x + ep.bias[j];
      if (act) x = act_scalar(x, act);
      c[j] = x;
    }
  }
}

void bias_act_row(float* x, const float* bias, int64_t n, int act) {
  for (int64_t j = 0; j < n; ++j) {
    float v = x[j];
    if (bias) v += bias[j];
    x[j] = act_scalar(v, act);
  }
}

template <int R>
void fill(KernelSet& ks) {
  ks.ukr[R - 1][0] = &ukr<R, 1>;
  ks.ukr[R - 1][1] = &ukr<R, 2>;
  ks.ukr[R - 1][2] = &ukr<R, 3>;
  ks.ukr[R - 1][3] = &ukr<R, 4>;
  if constexpr (R > 1) fill<R - 1>(ks);
}

KernelSet make() {
  KernelSet ks{};
  ks.name = "generic";
  ks.MR = 4;
  ks.VL = VL;
  ks.NV = 4;
  ks.KC = 256;
  ks.NC = nc_for_l2(ks.KC, ks.NV * ks.VL, 0.25, 256);  // 256 on a 1 MiB L2
  ks.MC = 4 * 512;
  fill<4>(ks);
  ks.bias_act_row = &bias_act_row;
  return ks;
}

}  // namespace

const KernelSet& kernels_generic() {
  static const KernelSet ks = make();
  return ks;
}

}  // namespace detail
}  // namespace nnforge
