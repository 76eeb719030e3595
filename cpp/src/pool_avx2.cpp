// AVX2 pooling row kernels (see pool_kernels.h): pool_simd.h's kernels over 8 channels a vector,
// masked loads/stores (vmaskmov) for the last C % 8 channels, the window index packed to bytes.
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
  struct tail_t {
    int64_t n;
    __m256i m;
  };
  static tail_t tail(int64_t n) { return {n, tail_mask(n)}; }
  static reg load(const float* p, tail_t t) { return _mm256_maskload_ps(p, t.m); }
  static void store(float* p, tail_t t, reg v) { _mm256_maskstore_ps(p, t.m, v); }
  static idx iload(const uint8_t* p, tail_t t) { return load_idx(p, t.n); }
  static void istore(uint8_t* p, tail_t t, idx i) { store_idx(p, i, t.n); }
};

}  // namespace

const Pool2x2Kernels& pool2x2_avx2() {
  static const Pool2x2Kernels k = pool_simd::kernels<V>("avx2");
  return k;
}

}  // namespace detail
}  // namespace nnforge
