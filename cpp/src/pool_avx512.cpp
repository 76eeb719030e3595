// AVX-512 (F, BW, VL) pooling row kernels (see pool_kernels.h): pool_simd.h's kernels over 16
// channels a vector, a masked access for the last C % 16 channels only (a masked access that
// splits a cache line, as NumPy's large arrays start 16 bytes into one, is several times slower
// than a plain one), the window index kept as bytes.
#include <immintrin.h>

#include <cstdint>

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
  struct tail_t {
    __mmask16 m;
  };
  static tail_t tail(int64_t n) { return {tail_mask(n)}; }
  static reg load(const float* p, tail_t t) { return _mm512_maskz_loadu_ps(t.m, p); }
  static void store(float* p, tail_t t, reg v) { _mm512_mask_storeu_ps(p, t.m, v); }
  static idx iload(const uint8_t* p, tail_t t) { return _mm_maskz_loadu_epi8(t.m, p); }
  static void istore(uint8_t* p, tail_t t, idx i) { _mm_mask_storeu_epi8(p, t.m, i); }
};

}  // namespace

const Pool2x2Kernels& pool2x2_avx512() {
  static const Pool2x2Kernels k = pool_simd::kernels<V>("avx512");
  return k;
}

}  // namespace detail
}  // namespace nnforge
