// AVX-512 (F, BW, VL) pooling row kernels (see pool_kernels.h): 16 channels a vector, a masked
// access for the last C % 16 channels, the window index kept as bytes.
#include <immintrin.h>

#include <cstdint>
#include <type_traits>

#include "pool_kernels.h"
#include "pool_simd.h"

namespace nnforge {
namespace detail {
namespace {

inline __mmask16 tail_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// pool_simd.h's vector ops.
struct V {
  using reg = __m512;
  using mask = __mmask16;
  using idx = __m128i;
  static constexpr int VL = 16;
  static reg load(const float* p, int64_t n) {
    return n == 16 ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(tail_mask(n), p);
  }
  static void store(float* p, int64_t n, reg v) {
    if (n == 16)
      _mm512_storeu_ps(p, v);
    else
      _mm512_mask_storeu_ps(p, tail_mask(n), v);
  }
  static reg zero() { return _mm512_setzero_ps(); }
  static reg set1(float f) { return _mm512_set1_ps(f); }
  static reg add(reg a, reg b) { return _mm512_add_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm512_mul_ps(a, b); }
  static mask gt(reg a, reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static reg sel(mask m, reg a, reg b) { return _mm512_mask_mov_ps(b, m, a); }
  static reg keep(mask m, reg v) { return _mm512_maskz_mov_ps(m, v); }
  static idx iset(int k) { return _mm_set1_epi8(static_cast<char>(k)); }
  static idx isel(mask m, int k, idx i) { return _mm_mask_mov_epi8(i, m, iset(k)); }
  static idx iload(const uint8_t* p, int64_t n) {
    return n == 16 ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(p))
                   : _mm_maskz_loadu_epi8(tail_mask(n), p);
  }
  static void istore(uint8_t* p, int64_t n, idx i) {
    if (n == 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(p), i);
    else
      _mm_mask_storeu_epi8(p, tail_mask(n), i);
  }
  static mask ieq(idx i, int k) { return _mm_cmpeq_epi8_mask(i, iset(k)); }
};

// Full vectors take plain loads and stores: a masked access that splits a cache line (NumPy's
// large arrays start 16 bytes into a line) is several times slower than a plain one.
template <bool kTail>
inline __m512 load(const float* p, __mmask16 m) {
  return kTail ? _mm512_maskz_loadu_ps(m, p) : _mm512_loadu_ps(p);
}

template <bool kTail>
inline void store(float* p, __mmask16 m, __m512 v) {
  if (kTail)
    _mm512_mask_storeu_ps(p, m, v);
  else
    _mm512_storeu_ps(p, v);
}

// Runs body<false>(c, mask) over the full 16-channel vectors of [0, C), then body<true> once
// over the last C % 16 channels.
template <class Body>
inline void over_channels(int64_t C, Body body) {
  const int64_t full = C / 16 * 16;
  int64_t c = 0;
  for (; c < full; c += 16) body(std::false_type{}, c, static_cast<__mmask16>(0xFFFF));
  if (c < C) body(std::true_type{}, c, tail_mask(C - c));
}

void max_fwd(const float* x0, const float* x1, float* y, uint8_t* arg, int64_t OW, int64_t C) {
  const __m128i one = _mm_set1_epi8(1), two = _mm_set1_epi8(2), three = _mm_set1_epi8(3);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    float* yo = y + ow * C;
    uint8_t* ao = arg ? arg + ow * C : nullptr;
    over_channels(C, [&](auto tail, int64_t c, __mmask16 m) {
      constexpr bool kT = decltype(tail)::value;
      __m512 mx = load<kT>(a + c, m);
      __m512 v = load<kT>(a + C + c, m);
      const __mmask16 k1 = _mm512_cmp_ps_mask(v, mx, _CMP_GT_OQ);
      mx = _mm512_mask_mov_ps(mx, k1, v);
      v = load<kT>(b + c, m);
      const __mmask16 k2 = _mm512_cmp_ps_mask(v, mx, _CMP_GT_OQ);
      mx = _mm512_mask_mov_ps(mx, k2, v);
      v = load<kT>(b + C + c, m);
      const __mmask16 k3 = _mm512_cmp_ps_mask(v, mx, _CMP_GT_OQ);
      mx = _mm512_mask_mov_ps(mx, k3, v);
      store<kT>(yo + c, m, mx);
      if (ao) {
        __m128i idx = _mm_maskz_mov_epi8(k1, one);
        idx = _mm_mask_mov_epi8(idx, k2, two);
        idx = _mm_mask_mov_epi8(idx, k3, three);
        if (kT)
          _mm_mask_storeu_epi8(ao + c, m, idx);
        else
          _mm_storeu_si128(reinterpret_cast<__m128i*>(ao + c), idx);
      }
    });
  }
}

void max_bwd(const float* dy, const uint8_t* arg, float* dx0, float* dx1, int64_t OW, int64_t C) {
  const __m128i zero = _mm_setzero_si128(), one = _mm_set1_epi8(1), two = _mm_set1_epi8(2),
                three = _mm_set1_epi8(3);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    const uint8_t* ai = arg + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    over_channels(C, [&](auto tail, int64_t c, __mmask16 m) {
      constexpr bool kT = decltype(tail)::value;
      const __m512 v = load<kT>(g + c, m);
      const __m128i idx = kT ? _mm_maskz_loadu_epi8(m, ai + c)
                             : _mm_loadu_si128(reinterpret_cast<const __m128i*>(ai + c));
      store<kT>(a + c, m, _mm512_maskz_mov_ps(_mm_cmpeq_epi8_mask(idx, zero), v));
      store<kT>(a + C + c, m, _mm512_maskz_mov_ps(_mm_cmpeq_epi8_mask(idx, one), v));
      store<kT>(b + c, m, _mm512_maskz_mov_ps(_mm_cmpeq_epi8_mask(idx, two), v));
      store<kT>(b + C + c, m, _mm512_maskz_mov_ps(_mm_cmpeq_epi8_mask(idx, three), v));
    });
  }
}

void avg_fwd(const float* x0, const float* x1, float* y, int64_t OW, int64_t C) {
  const __m512 quarter = _mm512_set1_ps(0.25f);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    float* yo = y + ow * C;
    over_channels(C, [&](auto tail, int64_t c, __mmask16 m) {
      constexpr bool kT = decltype(tail)::value;
      __m512 s = _mm512_add_ps(_mm512_setzero_ps(), load<kT>(a + c, m));
      s = _mm512_add_ps(s, load<kT>(a + C + c, m));
      s = _mm512_add_ps(s, load<kT>(b + c, m));
      s = _mm512_add_ps(s, load<kT>(b + C + c, m));
      store<kT>(yo + c, m, _mm512_mul_ps(s, quarter));
    });
  }
}

void avg_bwd(const float* dy, float* dx0, float* dx1, int64_t OW, int64_t C) {
  const __m512 quarter = _mm512_set1_ps(0.25f);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    over_channels(C, [&](auto tail, int64_t c, __mmask16 m) {
      constexpr bool kT = decltype(tail)::value;
      const __m512 v = _mm512_add_ps(_mm512_setzero_ps(), _mm512_mul_ps(load<kT>(g + c, m), quarter));
      store<kT>(a + c, m, v);
      store<kT>(a + C + c, m, v);
      store<kT>(b + c, m, v);
      store<kT>(b + C + c, m, v);
    });
  }
}


// The general-geometry kernels of pool_simd.h over whole arrays.
void max_fwd_any(const float* x, float* y, uint8_t* argmax, const Pool2DShape& s, int64_t n,
                 int64_t oh) {
  const float* xi = x + n * s.H * s.W * s.C;
  const int64_t o = (n * s.OH + oh) * s.OW * s.C;
  if (argmax)
    pool_simd::max_fwd_row<V, true>(xi, y + o, argmax + o, s, oh);
  else
    pool_simd::max_fwd_row<V, false>(xi, y + o, nullptr, s, oh);
}

void max_bwd_any(const float* dy, const uint8_t* argmax, float* dx, const Pool2DShape& s,
                 int64_t n, int64_t ih) {
  const int64_t o = n * s.OH * s.OW * s.C;
  pool_simd::max_bwd_row<V>(dy + o, argmax + o, dx + (n * s.H + ih) * s.W * s.C, s, ih);
}

void avg_fwd_any(const float* x, float* y, const Pool2DShape& s, int64_t n, int64_t oh) {
  pool_simd::avg_fwd_row<V>(x + n * s.H * s.W * s.C, y + (n * s.OH + oh) * s.OW * s.C, s, oh);
}

void avg_bwd_any(const float* dy, float* dx, const Pool2DShape& s, int64_t n, int64_t ih) {
  pool_simd::avg_bwd_row<V>(dy + n * s.OH * s.OW * s.C, dx + (n * s.H + ih) * s.W * s.C, s, ih);
}

}  // namespace

const Pool2x2Kernels& pool2x2_avx512() {
  static const Pool2x2Kernels k{"avx512",    max_fwd,     max_bwd,     avg_fwd,    avg_bwd,
                                max_fwd_any, max_bwd_any, avg_fwd_any, avg_bwd_any};
  return k;
}

}  // namespace detail
}  // namespace nnforge
