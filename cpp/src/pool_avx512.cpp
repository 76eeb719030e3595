// AVX-512 (F, BW, VL) row kernels of 2x2 stride-2 pooling (see pool_kernels.h): 16 channels a
// vector, a masked access for the last C % 16 channels, the window index kept as bytes.
#include <immintrin.h>

#include <cstdint>

#include "pool_kernels.h"

namespace nnforge {
namespace detail {
namespace {

inline __mmask16 tail_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

void max_fwd(const float* x0, const float* x1, float* y, uint8_t* arg, int64_t OW, int64_t C) {
  const __m128i one = _mm_set1_epi8(1), two = _mm_set1_epi8(2), three = _mm_set1_epi8(3);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    float* yo = y + ow * C;
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = tail_mask(C - c);
      __m512 mx = _mm512_maskz_loadu_ps(m, a + c);
      __m512 v = _mm512_maskz_loadu_ps(m, a + C + c);
      const __mmask16 k1 = _mm512_cmp_ps_mask(v, mx, _CMP_GT_OQ);
      mx = _mm512_mask_mov_ps(mx, k1, v);
      v = _mm512_maskz_loadu_ps(m, b + c);
      const __mmask16 k2 = _mm512_cmp_ps_mask(v, mx, _CMP_GT_OQ);
      mx = _mm512_mask_mov_ps(mx, k2, v);
      v = _mm512_maskz_loadu_ps(m, b + C + c);
      const __mmask16 k3 = _mm512_cmp_ps_mask(v, mx, _CMP_GT_OQ);
      mx = _mm512_mask_mov_ps(mx, k3, v);
      _mm512_mask_storeu_ps(yo + c, m, mx);
      if (arg) {
        __m128i idx = _mm_maskz_mov_epi8(k1, one);
        idx = _mm_mask_mov_epi8(idx, k2, two);
        idx = _mm_mask_mov_epi8(idx, k3, three);
        _mm_mask_storeu_epi8(arg + ow * C + c, m, idx);
      }
    }
  }
}

void max_bwd(const float* dy, const uint8_t* arg, float* dx0, float* dx1, int64_t OW, int64_t C) {
  const __m128i one = _mm_set1_epi8(1), two = _mm_set1_epi8(2), three = _mm_set1_epi8(3);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    const uint8_t* ai = arg + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = tail_mask(C - c);
      const __m512 v = _mm512_maskz_loadu_ps(m, g + c);
      const __m128i idx = _mm_maskz_loadu_epi8(m, ai + c);
      _mm512_mask_storeu_ps(a + c, m, _mm512_maskz_mov_ps(_mm_cmpeq_epi8_mask(idx, _mm_setzero_si128()), v));
      _mm512_mask_storeu_ps(a + C + c, m, _mm512_maskz_mov_ps(_mm_cmpeq_epi8_mask(idx, one), v));
      _mm512_mask_storeu_ps(b + c, m, _mm512_maskz_mov_ps(_mm_cmpeq_epi8_mask(idx, two), v));
      _mm512_mask_storeu_ps(b + C + c, m, _mm512_maskz_mov_ps(_mm_cmpeq_epi8_mask(idx, three), v));
    }
  }
}

void avg_fwd(const float* x0, const float* x1, float* y, int64_t OW, int64_t C) {
  const __m512 quarter = _mm512_set1_ps(0.25f);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    float* yo = y + ow * C;
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = tail_mask(C - c);
      __m512 s = _mm512_add_ps(_mm512_setzero_ps(), _mm512_maskz_loadu_ps(m, a + c));
      s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, a + C + c));
      s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, b + c));
      s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, b + C + c));
      _mm512_mask_storeu_ps(yo + c, m, _mm512_mul_ps(s, quarter));
    }
  }
}

void avg_bwd(const float* dy, float* dx0, float* dx1, int64_t OW, int64_t C) {
  const __m512 quarter = _mm512_set1_ps(0.25f);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    for (int64_t c = 0; c < C; c += 16) {
      const __mmask16 m = tail_mask(C - c);
      const __m512 v = _mm512_add_ps(_mm512_setzero_ps(),
                                     _mm512_mul_ps(_mm512_maskz_loadu_ps(m, g + c), quarter));
      _mm512_mask_storeu_ps(a + c, m, v);
      _mm512_mask_storeu_ps(a + C + c, m, v);
      _mm512_mask_storeu_ps(b + c, m, v);
      _mm512_mask_storeu_ps(b + C + c, m, v);
    }
  }
}

}  // namespace

const Pool2x2Kernels& pool2x2_avx512() {
  static const Pool2x2Kernels k{"avx512", max_fwd, max_bwd, avg_fwd, avg_bwd};
  return k;
}

}  // namespace detail
}  // namespace nnforge
