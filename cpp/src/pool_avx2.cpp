// AVX2 pooling row kernels (see pool_kernels.h): 8 channels a vector, masked loads/stores
// (vmaskmov) for the last C % 8 channels, the window index packed to bytes.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "pool_kernels.h"
#include "pool_simd.h"

namespace nnforge {
namespace detail {
namespace {

// Lanes [0, n) set (n clamped to 8).
inline __m256i tail_mask(int64_t n) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 8 ? n : 8)), lane);
}

// 8 int32 lanes (0..3) -> 8 bytes; n < 8 stores only the first n.
inline void store_idx(uint8_t* p, __m256i idx, int64_t n) {
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(idx), _mm256_extracti128_si256(idx, 1));
  const __m128i b = _mm_packus_epi16(w, w);
  if (n >= 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), b);
  } else {
    alignas(16) uint8_t tmp[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(tmp), b);
    std::memcpy(p, tmp, static_cast<size_t>(n));
  }
}

// 8 bytes (n < 8: the first n, the rest 0xFF, which matches no window index) -> 8 int32 lanes.
inline __m256i load_idx(const uint8_t* p, int64_t n) {
  if (n >= 8) return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  alignas(16) uint8_t tmp[16];
  std::memset(tmp, 0xFF, sizeof tmp);
  std::memcpy(tmp, p, static_cast<size_t>(n));
  return _mm256_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
}

// pool_simd.h's vector ops (window indices as int32 lanes, packed to bytes in memory).
struct V {
  using reg = __m256;
  using mask = __m256;
  using idx = __m256i;
  static constexpr int VL = 8;
  static reg load(const float* p, int64_t n) {
    return n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, tail_mask(n));
  }
  static void store(float* p, int64_t n, reg v) {
    if (n == 8)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, tail_mask(n), v);
  }
  static reg zero() { return _mm256_setzero_ps(); }
  static reg set1(float f) { return _mm256_set1_ps(f); }
  static reg add(reg a, reg b) { return _mm256_add_ps(a, b); }
  static reg mul(reg a, reg b) { return _mm256_mul_ps(a, b); }
  static mask gt(reg a, reg b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static reg sel(mask m, reg a, reg b) { return _mm256_blendv_ps(b, a, m); }
  static reg keep(mask m, reg v) { return _mm256_and_ps(m, v); }
  static idx iset(int k) { return _mm256_set1_epi32(k); }
  static idx isel(mask m, int k, idx i) {
    return _mm256_blendv_epi8(i, iset(k), _mm256_castps_si256(m));
  }
  static idx iload(const uint8_t* p, int64_t n) { return load_idx(p, n); }
  static void istore(uint8_t* p, int64_t n, idx i) { store_idx(p, i, n); }
  static mask ieq(idx i, int k) { return _mm256_castsi256_ps(_mm256_cmpeq_epi32(i, iset(k))); }
};

template <bool kTail>
inline __m256 load(const float* p, __m256i m) {
  return kTail ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}

template <bool kTail>
inline void store(float* p, __m256i m, __m256 v) {
  if (kTail)
    _mm256_maskstore_ps(p, m, v);
  else
    _mm256_storeu_ps(p, v);
}

template <bool kTail>
inline void max_fwd_vec(const float* a, const float* b, float* yo, uint8_t* ao, int64_t C,
                        int64_t n, __m256i m) {
  __m256 mx = load<kTail>(a, m);
  __m256 v = load<kTail>(a + C, m);
  const __m256 k1 = _mm256_cmp_ps(v, mx, _CMP_GT_OQ);
  mx = _mm256_blendv_ps(mx, v, k1);
  v = load<kTail>(b, m);
  const __m256 k2 = _mm256_cmp_ps(v, mx, _CMP_GT_OQ);
  mx = _mm256_blendv_ps(mx, v, k2);
  v = load<kTail>(b + C, m);
  const __m256 k3 = _mm256_cmp_ps(v, mx, _CMP_GT_OQ);
  mx = _mm256_blendv_ps(mx, v, k3);
  store<kTail>(yo, m, mx);
  if (ao) {
    __m256i idx = _mm256_and_si256(_mm256_castps_si256(k1), _mm256_set1_epi32(1));
    idx = _mm256_blendv_epi8(idx, _mm256_set1_epi32(2), _mm256_castps_si256(k2));
    idx = _mm256_blendv_epi8(idx, _mm256_set1_epi32(3), _mm256_castps_si256(k3));
    store_idx(ao, idx, n);
  }
}

void max_fwd(const float* x0, const float* x1, float* y, uint8_t* arg, int64_t OW, int64_t C) {
  const int64_t full = C / 8 * 8;
  const __m256i mt = tail_mask(C - full);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    float* yo = y + ow * C;
    uint8_t* ao = arg ? arg + ow * C : nullptr;
    int64_t c = 0;
    for (; c < full; c += 8)
      max_fwd_vec<false>(a + c, b + c, yo + c, ao ? ao + c : nullptr, C, 8, mt);
    if (c < C) max_fwd_vec<true>(a + c, b + c, yo + c, ao ? ao + c : nullptr, C, C - c, mt);
  }
}

template <bool kTail>
inline void max_bwd_vec(const float* g, const uint8_t* ai, float* a, float* b, int64_t C,
                        int64_t n, __m256i m) {
  const __m256 v = load<kTail>(g, m);
  const __m256i idx = load_idx(ai, n);
  auto pick = [&](int k) {
    return _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(idx, _mm256_set1_epi32(k))), v);
  };
  store<kTail>(a, m, pick(0));
  store<kTail>(a + C, m, pick(1));
  store<kTail>(b, m, pick(2));
  store<kTail>(b + C, m, pick(3));
}

void max_bwd(const float* dy, const uint8_t* arg, float* dx0, float* dx1, int64_t OW, int64_t C) {
  const int64_t full = C / 8 * 8;
  const __m256i mt = tail_mask(C - full);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    const uint8_t* ai = arg + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    int64_t c = 0;
    for (; c < full; c += 8) max_bwd_vec<false>(g + c, ai + c, a + c, b + c, C, 8, mt);
    if (c < C) max_bwd_vec<true>(g + c, ai + c, a + c, b + c, C, C - c, mt);
  }
}

template <bool kTail>
inline void avg_fwd_vec(const float* a, const float* b, float* yo, int64_t C, __m256i m) {
  __m256 s = _mm256_add_ps(_mm256_setzero_ps(), load<kTail>(a, m));
  s = _mm256_add_ps(s, load<kTail>(a + C, m));
  s = _mm256_add_ps(s, load<kTail>(b, m));
  s = _mm256_add_ps(s, load<kTail>(b + C, m));
  store<kTail>(yo, m, _mm256_mul_ps(s, _mm256_set1_ps(0.25f)));
}

void avg_fwd(const float* x0, const float* x1, float* y, int64_t OW, int64_t C) {
  const int64_t full = C / 8 * 8;
  const __m256i mt = tail_mask(C - full);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    float* yo = y + ow * C;
    int64_t c = 0;
    for (; c < full; c += 8) avg_fwd_vec<false>(a + c, b + c, yo + c, C, mt);
    if (c < C) avg_fwd_vec<true>(a + c, b + c, yo + c, C, mt);
  }
}

template <bool kTail>
inline void avg_bwd_vec(const float* g, float* a, float* b, int64_t C, __m256i m) {
  const __m256 v = _mm256_add_ps(_mm256_setzero_ps(),
                                 _mm256_mul_ps(load<kTail>(g, m), _mm256_set1_ps(0.25f)));
  store<kTail>(a, m, v);
  store<kTail>(a + C, m, v);
  store<kTail>(b, m, v);
  store<kTail>(b + C, m, v);
}

void avg_bwd(const float* dy, float* dx0, float* dx1, int64_t OW, int64_t C) {
  const int64_t full = C / 8 * 8;
  const __m256i mt = tail_mask(C - full);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    int64_t c = 0;
    for (; c < full; c += 8) avg_bwd_vec<false>(g + c, a + c, b + c, C, mt);
    if (c < C) avg_bwd_vec<true>(g + c, a + c, b + c, C, mt);
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

const Pool2x2Kernels& pool2x2_avx2() {
  static const Pool2x2Kernels k{"avx2",      max_fwd,     max_bwd,     avg_fwd,    avg_bwd,
                                max_fwd_any, max_bwd_any, avg_fwd_any, avg_bwd_any};
  return k;
}

}  // namespace detail
}  // namespace nnforge
