// Private to the SIMD GEMM micro-kernel files (gemm_avx512.cpp, gemm_avx2.cpp): the epilogue
// and its activations, written once over a vector-ops type V that each file defines for its ISA.
// V must live in that file's anonymous namespace, so that every instantiation below stays in the
// file compiled with that ISA's flags (no ODR merging across -m flags). V provides:
//   reg, mask                      the float vector and the column-mask types; VL floats a vector
//   set1 zero fmadd fnmadd min max and_ andnot or_   (lane-wise, as the intrinsics; + - * / are
//                                  GCC's vector operators, which those intrinsics are built on)
//   round(x)                       to nearest integer, as float
//   ldexp(y, n)                    y * 2^n for integral float n (the result of exp's reduction)
//   kExpLo, kExpHi                 exp's input clamp (what ldexp handles without overflow)
//   select_lt(a, b, t, f)          a < b ? t : f, lane-wise
//   col_mask(nr, v)                the lanes of vector v (columns v*VL...) below column nr
//   load(p, m), store(p, m, x)     masked load (zeros outside m) / masked store
//   load_tile(p, m, full), store_tile(p, m, x, full)   the same for a C tile row; full says m is
//                                  all lanes, which an ISA may use to take an unmasked access
#pragma once

#include <algorithm>
#include <cstdint>

#include "gemm_kernels.h"

namespace nnforge {
namespace detail {
namespace simd {

// exp(x) with the Cephes expf polynomial; |rel err| ~ 2 ulp.
template <class V>
inline typename V::reg exp(typename V::reg x) {
  using reg = typename V::reg;
  x = V::min(V::set1(V::kExpHi), V::max(V::set1(V::kExpLo), x));
  reg fx = V::round(x * V::set1(1.44269504088896341f));
  reg r = V::fnmadd(fx, V::set1(0.693359375f), x);
  r = V::fnmadd(fx, V::set1(-2.12194440e-4f), r);
  reg y = V::set1(1.9875691500E-4f);
  y = V::fmadd(y, r, V::set1(1.3981999507E-3f));
  y = V::fmadd(y, r, V::set1(8.3334519073E-3f));
  y = V::fmadd(y, r, V::set1(4.1665795894E-2f));
  y = V::fmadd(y, r, V::set1(1.6666665459E-1f));
  y = V::fmadd(y, r, V::set1(5.0000001201E-1f));
  y = V::fmadd(y, r * r, r + V::set1(1.f));
  return V::ldexp(y, fx);
}

template <class V>
inline typename V::reg sigmoid(typename V::reg x) {
  const typename V::reg one = V::set1(1.f);
  return one / (one + exp<V>(V::zero() - x));
}

template <class V>
inline typename V::reg tanh(typename V::reg x) {
  using reg = typename V::reg;
  const reg sign = V::set1(-0.f);
  reg ax = V::andnot(sign, x);
  // |x| < 0.625: Cephes tanhf odd polynomial.
  reg z = x * x;
  reg p = V::set1(-5.70498872745E-3f);
  p = V::fmadd(p, z, V::set1(2.06390887954E-2f));
  p = V::fmadd(p, z, V::set1(-5.37397155531E-2f));
  p = V::fmadd(p, z, V::set1(1.33314422036E-1f));
  p = V::fmadd(p, z, V::set1(-3.33332819422E-1f));
  reg small = V::fmadd(p * z, x, x);
  // otherwise 1 - 2/(exp(2|x|)+1), with the sign of x.
  reg e = exp<V>(ax + ax);
  reg big = V::set1(1.f) - V::set1(2.f) / (e + V::set1(1.f));
  big = V::or_(big, V::and_(sign, x));
  return V::select_lt(ax, V::set1(0.625f), small, big);
}

// act as in Act: 1 relu (max(0, x): keeps NaN), 2 sigmoid, 3 tanh, else linear.
template <class V>
inline typename V::reg apply_act(typename V::reg x, int act) {
  switch (act) {
    case 1: return V::max(V::zero(), x);
    case 2: return sigmoid<V>(x);
    case 3: return tanh<V>(x);
    default: return x;
  }
}

// Writes the MR x nr tile acc (MR x NV vectors) to C with the epilogue of gemm_kernels.h:
// C = alpha*acc (+ beta*C unless beta == 0), then on the last K block + bias and act.
template <class V, int MR, int NV>
inline void store_tile(typename V::reg (&acc)[MR][NV], float* __restrict C, int64_t ldc, int nr,
                       const Epilogue& ep) {
  using reg = typename V::reg;
  constexpr int VL = V::VL;
  const reg alpha = V::set1(ep.alpha);
  const bool use_beta = ep.beta != 0.f;
  const reg beta = V::set1(ep.beta);
  const bool use_bias = ep.last && ep.bias != nullptr;
  const bool full = nr == NV * VL;
  typename V::mask m[NV];
  reg bias[NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    m[v] = V::col_mask(nr, v);
    bias[v] = use_bias ? V::load(ep.bias + v * VL, m[v]) : V::zero();
  }
  const int act = ep.last ? ep.act : 0;
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    float* c = C + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      reg x = alpha * acc[r][v];
      if (use_beta) x = V::fmadd(beta, V::load_tile(c + v * VL, m[v], full), x);
      if (use_bias) x = x + bias[v];
      if (act) x = apply_act<V>(x, act);
      V::store_tile(c + v * VL, m[v], x, full);
    }
  }
}

// In place over a contiguous row of n floats: x = act(x + bias) (bias may be null).
template <class V>
void bias_act_row(float* x, const float* bias, int64_t n, int act) {
  constexpr int VL = V::VL;
  for (int64_t j = 0; j < n; j += VL) {
    const typename V::mask m = V::col_mask(static_cast<int>(std::min<int64_t>(n - j, VL)), 0);
    typename V::reg v = V::load(x + j, m);
    if (bias) v = v + V::load(bias + j, m);
    v = apply_act<V>(v, act);
    V::store(x + j, m, v);
  }
}

}  // namespace simd
}  // namespace detail
}  // namespace nnforge
