// AVX-512 VNNI int8 micro-kernels (qgemm_kernels.h contract). Compiled with -mavx512vnni; only
// called when the CPU has it (qgemm.cpp's dispatch).
//
// Micro-tile: up to MR = 8 rows x NV = 3 panels (48 columns): 24 zmm accumulators, 3 zmm of B
// (one per panel, 16 columns x 4 k) and one broadcast of 4 bytes of A per row. Per k-group of 4:
// 3 loads + 8 broadcasts feed 24 vpdpbusd (64 multiply-adds each).
#include <immintrin.h>

#include <cstring>

#include "qgemm_kernels.h"

// GCC 12 warns that avx512fintrin.h's own _mm512_undefined_ps() "may be used uninitialized" in
// the max/shuffle intrinsics: a false positive of the header, not of this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace nnforge {
namespace detail {
namespace {

inline int32_t load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The accumulators are named variables (an array of 24 zmm is not kept in registers by GCC: it
// spills every iteration); the unused ones of a smaller tile are removed by the compiler.
#define NNF_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
template <int R, int V>
void ukr(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B, int64_t bstride,
         const int32_t* comp, int32_t* tile) {
  const __m512i z = _mm512_setzero_si512();
  const __m512i k0 = _mm512_loadu_si512(comp);
  const __m512i k1 = V > 1 ? _mm512_loadu_si512(comp + 16) : z;
  const __m512i k2 = V > 2 ? _mm512_loadu_si512(comp + 32) : z;
#define NNF_INIT(r) __m512i c##r##0 = k0, c##r##1 = k1, c##r##2 = k2;
  NNF_ROWS(NNF_INIT)
#undef NNF_INIT
  const int8_t* B1 = B + bstride;
  const int8_t* B2 = B + 2 * bstride;
  for (int64_t g = 0; g < kg; ++g) {
    const __m512i b0 = _mm512_loadu_si512(B + 64 * g);
    const __m512i b1 = V > 1 ? _mm512_loadu_si512(B1 + 64 * g) : z;
    const __m512i b2 = V > 2 ? _mm512_loadu_si512(B2 + 64 * g) : z;
#define NNF_STEP(r)                                                  \
    if constexpr (R > r) {                                           \
      const __m512i a = _mm512_set1_epi32(load4(A + r * lda + 4 * g)); \
      c##r##0 = _mm512_dpbusd_epi32(c##r##0, a, b0);                 \
      if constexpr (V > 1) c##r##1 = _mm512_dpbusd_epi32(c##r##1, a, b1); \
      if constexpr (V > 2) c##r##2 = _mm512_dpbusd_epi32(c##r##2, a, b2); \
    }
    NNF_ROWS(NNF_STEP)
#undef NNF_STEP
  }
#define NNF_STORE(r)                                                         \
  if constexpr (R > r) {                                                     \
    _mm512_storeu_si512(tile + r * kTileLd, c##r##0);                        \
    if constexpr (V > 1) _mm512_storeu_si512(tile + r * kTileLd + 16, c##r##1); \
    if constexpr (V > 2) _mm512_storeu_si512(tile + r * kTileLd + 32, c##r##2); \
  }
  NNF_ROWS(NNF_STORE)
#undef NNF_STORE
}
#undef NNF_ROWS

// ---- epilogue and quantization (same arithmetic as the portable ones in qgemm.cpp) ----------

// clip(round_half_even(v), -127, 127) with NaN -> 0, as int32 lanes.
inline __m512i q127(__m512 v) {
  v = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(v, v, _CMP_ORD_Q), v);
  v = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
  return _mm512_cvt_roundps_epi32(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

inline __m512 absf(__m512 v) {
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(0x7fffffff)));
}

// Max of the 16 lanes (exact; no NaN among them: NaN inputs were never selected by max_ps).
inline float hmax(__m512 v) {
  v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0x4E));
  v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, 0xB1));
  v = _mm512_max_ps(v, _mm512_permute_ps(v, 0x4E));
  v = _mm512_max_ps(v, _mm512_permute_ps(v, 0xB1));
  return _mm512_cvtss_f32(v);
}

void epi(const QEpi& ep, const int32_t* tile, int64_t i, int mr, int64_t j, int nr) {
  for (int r = 0; r < mr; ++r) {
    const int32_t* t = tile + r * kTileLd;
    const int64_t row = i + r;
    if (ep.mode == 0) {
      int32_t* o = static_cast<int32_t*>(ep.out) + row * ep.ldo + j;
      for (int c = 0; c < nr; c += 16) {
        const __mmask16 m = static_cast<__mmask16>((nr - c) >= 16 ? 0xFFFF : (1u << (nr - c)) - 1);
        _mm512_mask_storeu_epi32(o + c, m, _mm512_loadu_si512(t + c));
      }
      continue;
    }
    const __m512 xs = _mm512_set1_ps(ep.xs[row]);
    alignas(64) float y[kTileLd];
    for (int c = 0; c < nr; c += 16) {
      const __mmask16 m = static_cast<__mmask16>((nr - c) >= 16 ? 0xFFFF : (1u << (nr - c)) - 1);
      const __m512 ws = _mm512_mask_loadu_ps(_mm512_set1_ps(1.0f), m, ep.ws + j + c);
      __m512 v = _mm512_div_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(t + c)), _mm512_mul_ps(xs, ws));
      if (ep.bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, ep.bias + j + c));
      if (ep.act == 1) {
        const __mmask16 keep = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ) |
                               _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        v = _mm512_maskz_mov_ps(keep, v);
      }
      _mm512_store_ps(y + c, v);
    }
    if (ep.act >= 2) ep.act_row(y, nr, ep.act);
    if (ep.mode == 1) {
      float* o = static_cast<float*>(ep.out) + row * ep.ldo + j;
      for (int c = 0; c < nr; c += 16) {
        const __mmask16 m = static_cast<__mmask16>((nr - c) >= 16 ? 0xFFFF : (1u << (nr - c)) - 1);
        _mm512_mask_storeu_ps(o + c, m, _mm512_load_ps(y + c));
      }
    } else {
      int8_t* o = static_cast<int8_t*>(ep.out) + row * ep.ldo + j;
      const __m512 os = _mm512_set1_ps(ep.out_scale);
      for (int c = 0; c < nr; c += 16) {
        const __mmask16 m = static_cast<__mmask16>((nr - c) >= 16 ? 0xFFFF : (1u << (nr - c)) - 1);
        _mm512_mask_cvtepi32_storeu_epi8(o + c, m, q127(_mm512_mul_ps(_mm512_load_ps(y + c), os)));
      }
    }
  }
}

void quant(const float* x, int64_t r0, int64_t r1, int64_t K, int64_t ldx, float static_scale,
           uint8_t* a, int64_t lda, float* scale) {
  const __m512i off = _mm512_set1_epi32(128);
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    float s = static_scale;
    if (!(s > 0.0f)) {
      __m512 mx = _mm512_setzero_ps();
      int64_t k = 0;
      for (; k + 16 <= K; k += 16) mx = _mm512_max_ps(absf(_mm512_loadu_ps(xr + k)), mx);
      if (k < K) {
        const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1);
        mx = _mm512_max_ps(absf(_mm512_maskz_loadu_ps(m, xr + k)), mx);
      }
      s = 127.0f / (hmax(mx) + 1e-7f);
    }
    scale[r] = s;
    const __m512 vs = _mm512_set1_ps(s);
    uint8_t* ar = a + r * lda;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(ar + k),
                       _mm512_cvtepi32_epi8(_mm512_add_epi32(
                           q127(_mm512_mul_ps(_mm512_loadu_ps(xr + k), vs)), off)));
    if (k < K) {
      const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1);
      _mm512_mask_cvtepi32_storeu_epi8(
          ar + k, m,
          _mm512_add_epi32(q127(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + k), vs)), off));
    }
    for (k = K; k < lda; ++k) ar[k] = 128;
  }
}

QKernelSet make() {
  QKernelSet ks = kernel_set<8, 3>("avx512_vnni", [](auto r, auto v) { return &ukr<r, v>; });
  ks.epi = &epi;
  ks.quant = &quant;
  return ks;
}

}  // namespace

const QKernelSet& qkernels_avx512vnni() {
  static const QKernelSet ks = make();
  return ks;
}

}  // namespace detail
}  // namespace nnforge
