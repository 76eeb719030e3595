// AVX-512 GEMM micro-kernels (compiled with -mavx512f/vl/bw/dq by CMake because of the suffix).
// Register blocking: up to 14 rows x 32 columns (28 zmm accumulators, 2 zmm of B, 1 broadcast).
// The epilogue (alpha/beta, bias, activation) is applied to the accumulators in registers and
// stored once with masked stores for the column edge.
#include <immintrin.h>

// GCC 12 warns about the undefined vectors inside its own AVX-512 intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include <cmath>

#include "gemm_kernels.h"
#include "gemm_simd.h"

namespace nnforge {
namespace detail {
namespace {

// The AVX-512 vector ops of gemm_simd.h.
struct Avx512 {
  using reg = __m512;
  using mask = __mmask16;
  static constexpr int VL = 16;
  static constexpr float kExpLo = -100.f, kExpHi = 100.f;
  static reg set1(float x) { return _mm512_set1_ps(x); }
  static reg zero() { return _mm512_setzero_ps(); }
  static reg fmadd(reg a, reg b, reg c) { return _mm512_fmadd_ps(a, b, c); }
  static reg fnmadd(reg a, reg b, reg c) { return _mm512_fnmadd_ps(a, b, c); }
  static reg min(reg a, reg b) { return _mm512_min_ps(a, b); }
  static reg max(reg a, reg b) { return _mm512_max_ps(a, b); }
  static reg and_(reg a, reg b) { return _mm512_and_ps(a, b); }
  static reg andnot(reg a, reg b) { return _mm512_andnot_ps(a, b); }
  static reg or_(reg a, reg b) { return _mm512_or_ps(a, b); }
  static reg round(reg x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  // y * 2^n; scalef handles overflow/underflow.
  static reg ldexp(reg y, reg n) { return _mm512_scalef_ps(y, n); }
  static reg select_lt(reg a, reg b, reg t, reg f) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), f, t);
  }
  static mask col_mask(int nr, int v) {
    int n = nr - v * VL;
    if (n >= VL) return 0xFFFF;
    if (n <= 0) return 0;
    return static_cast<__mmask16>((1u << n) - 1u);
  }
  static reg load(const float* p, mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static void store(float* p, mask m, reg x) { _mm512_mask_storeu_ps(p, m, x); }
  // C tile rows too are always accessed masked.
  static reg load_tile(const float* p, mask m, bool) { return load(p, m); }
  static void store_tile(float* p, mask m, reg x, bool) { store(p, m, x); }
};

constexpr int VL = Avx512::VL;

template <int MR, int NV>
inline void prefetch_c(const float* C, int64_t ldc) {
  // Bring the C tile towards L2 while the k loop runs (rows ldc apart: TLB / cache misses).
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc), _MM_HINT_T1);
    if (NV > 1) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NV * VL - 1), _MM_HINT_T1);
    // and the tile to its right, which the next call (next B micro-panel) updates
    _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + NV * VL), _MM_HINT_T1);
    if (NV > 1) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + 2 * NV * VL - 1), _MM_HINT_T1);
  }
}

// A packed: A(r, k) = A[k*MR + r].
template <int MR, int NV>
void ukr(int64_t kc, const float* __restrict A, const float* __restrict B, float* __restrict C,
         int64_t ldc, int nr, const Epilogue& ep) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  prefetch_c<MR, NV>(C, ldc);
  const float* pf = ep.pf;
  const int64_t pfn = ep.pf_lines;
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(B + v * VL);
    _mm_prefetch(reinterpret_cast<const char*>(B + 8 * NV * VL), _MM_HINT_T0);
    if ((k & 3) == 0 && (k >> 2) < pfn)
      _mm_prefetch(reinterpret_cast<const char*>(pf + (k >> 2) * 16), _MM_HINT_T1);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      __m512 a = _mm512_set1_ps(A[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
    A += MR;
    B += NV * VL;
  }
  simd::store_tile<Avx512, MR, NV>(acc, C, ldc, nr, ep);
}

// A in place, row-major: A(r, k) = A[r*lda + k]. Same arithmetic as ukr.
template <int MR, int NV>
void ukr_direct(int64_t kc, const float* __restrict A, int64_t lda, const float* __restrict B,
                float* __restrict C, int64_t ldc, int nr, const Epilogue& ep) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  prefetch_c<MR, NV>(C, ldc);
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(B + v * VL);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      __m512 a = _mm512_set1_ps(A[r * lda + k]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
    B += NV * VL;
  }
  simd::store_tile<Avx512, MR, NV>(acc, C, ldc, nr, ep);
}

// A in place, stored K x M: A(r, k) = A[k*lda + r]. Same arithmetic as ukr.
template <int MR, int NV>
void ukr_direct_t(int64_t kc, const float* __restrict A, int64_t lda, const float* __restrict B,
                  float* __restrict C, int64_t ldc, int nr, const Epilogue& ep) {
  __m512 acc[MR][NV];
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  prefetch_c<MR, NV>(C, ldc);
  // Hint: the next panel's A (same rows, next columns), fetched row by row into L2 while this
  // one computes; in place, A is read with a stride of lda, which hardware prefetchers serve
  // poorly when memory is busy.
  const float* pf = ep.pf_lines ? ep.pf : nullptr;
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(B + v * VL);
    _mm_prefetch(reinterpret_cast<const char*>(A + 8 * lda), _MM_HINT_T0);
    if (pf) {
      _mm_prefetch(reinterpret_cast<const char*>(pf), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char*>(pf + MR - 1), _MM_HINT_T1);
      pf += lda;
    }
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      __m512 a = _mm512_set1_ps(A[r]);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
    A += lda;
    B += NV * VL;
  }
  simd::store_tile<Avx512, MR, NV>(acc, C, ldc, nr, ep);
}

// In-register 16x16 transpose: afterwards r[i] holds column i of the input rows.
inline void transpose16(__m512 r[16]) {
  __m512 t[16], u[16];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0x44);
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], 0xEE);
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
  }
  // u[4g + c] holds, in each 128-bit lane L, column (4L + c) of rows 4g..4g+3.
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    // lanes 0,2 / 1,3 of groups (0,1) and (2,3)
    t[c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);        // L0g0 L2g0 L0g1 L2g1
    t[4 + c] = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);    // L1g0 L3g0 L1g1 L3g1
    t[8 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
    t[12 + c] = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
  }
#pragma GCC unroll 4
  for (int c = 0; c < 4; ++c) {
    r[c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0x88);            // L0: column c
    r[8 + c] = _mm512_shuffle_f32x4(t[c], t[8 + c], 0xDD);        // L2: column 8 + c
    r[4 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0x88);   // L1: column 4 + c
    r[12 + c] = _mm512_shuffle_f32x4(t[4 + c], t[12 + c], 0xDD);  // L3: column 12 + c
  }
}

void transpose_pack(const float* src, int64_t lds, int rows, int lanes, int64_t kc, float* dst,
                    int64_t dst_stride) {
  const __mmask16 sm = static_cast<__mmask16>((1u << lanes) - 1u);
  __m512 v[16];
  int64_t k = 0;
  for (; k + 16 <= kc; k += 16) {
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r)
      v[r] = r < rows ? _mm512_loadu_ps(src + r * lds + k) : _mm512_setzero_ps();
    transpose16(v);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) _mm512_mask_storeu_ps(dst + (k + i) * dst_stride, sm, v[i]);
  }
  if (k < kc) {
    const int rem = static_cast<int>(kc - k);
    const __mmask16 lm = static_cast<__mmask16>((1u << rem) - 1u);
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r)
      v[r] = r < rows ? _mm512_maskz_loadu_ps(lm, src + r * lds + k) : _mm512_setzero_ps();
    transpose16(v);
    for (int i = 0; i < rem; ++i) _mm512_mask_storeu_ps(dst + (k + i) * dst_stride, sm, v[i]);
  }
}

void copy_pack(const float* src, int64_t lds, int cols, int w, int64_t kc, float* dst) {
  const __mmask16 l0 = Avx512::col_mask(cols, 0), l1 = Avx512::col_mask(cols, 1);
  const __mmask16 s0 = Avx512::col_mask(w, 0), s1 = Avx512::col_mask(w, 1);
  if (w > 16) {
    // Rows lds apart: hardware prefetchers miss most of them, so fetch 16 rows ahead.
    for (int64_t k = 0; k < kc; ++k) {
      const float* s = src + k * lds;
      _mm_prefetch(reinterpret_cast<const char*>(s + 16 * lds), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(s + 16 * lds + 31), _MM_HINT_T0);
      __m512 a = _mm512_maskz_loadu_ps(l0, s), b = _mm512_maskz_loadu_ps(l1, s + 16);
      _mm512_mask_storeu_ps(dst + k * w, s0, a);
      _mm512_mask_storeu_ps(dst + k * w + 16, s1, b);
    }
  } else {
    for (int64_t k = 0; k < kc; ++k)
      _mm512_mask_storeu_ps(dst + k * w, s0, _mm512_maskz_loadu_ps(l0, src + k * lds));
  }
}

template <int R>
void fill(KernelSet& ks) {
  ks.ukr[R - 1][0] = &ukr<R, 1>;
  ks.ukr[R - 1][1] = &ukr<R, 2>;
  ks.ukr_direct[R - 1][0] = &ukr_direct<R, 1>;
  ks.ukr_direct[R - 1][1] = &ukr_direct<R, 2>;
  ks.ukr_direct_t[R - 1][0] = &ukr_direct_t<R, 1>;
  ks.ukr_direct_t[R - 1][1] = &ukr_direct_t<R, 2>;
  if constexpr (R > 1) fill<R - 1>(ks);
}

KernelSet make() {
  KernelSet ks{};
  ks.name = "avx512";
  ks.MR = 14;
  ks.VL = VL;
  ks.NV = 2;
  // L1d 48 KiB: A micro-panel 14 x 512 floats (28 KiB) stays there while B micro-panels stream.
  // L2: B block 512 x NC floats, 3/8 of L2 (1 MiB: NC 192, 384 KiB; 2 MiB: NC 384), shared by
  // all A micro-panels of a thread.
  ks.KC = 512;
  ks.NC = nc_for_l2(ks.KC, ks.NV * ks.VL, 0.375, 192);  // 192 on a 1 MiB L2
  ks.MC = 14 * 300;
  fill<14>(ks);
  ks.bias_act_row = &simd::bias_act_row<Avx512>;
  ks.transpose_pack = &transpose_pack;
  ks.copy_pack = &copy_pack;
  return ks;
}

}  // namespace

const KernelSet& kernels_avx512() {
  static const KernelSet ks = make();
  return ks;
}

}  // namespace detail
}  // namespace nnforge
