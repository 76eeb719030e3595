// AVX2 int8 micro-kernels without VNNI (qgemm_kernels.h contract). vpmaddubsw would saturate
// (2 * 255 * 127 > 32767), so both operands are widened to int16 and multiplied with vpmaddwd
// (exact): a k-group of one panel (16 columns x 4 k, 64 bytes) becomes 4 ymm of int16, each
// 4 columns x 4 k; vpmaddwd against A's 4 bytes (widened, broadcast) gives per column two
// partial sums (k 0-1 and k 2-3), added pairwise when the tile is stored.
//
// Micro-tile: up to MR = 2 rows x 1 panel: 8 accumulators, 4 of B, 1 of A.
#include <immintrin.h>

#include <cstring>

#include "qgemm_kernels.h"

namespace nnforge {
namespace detail {
namespace {

inline __m256i bcast_a(const uint8_t* p) {
  int32_t a4;
  std::memcpy(&a4, p, 4);
  return _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(a4)));  // 4 int16, x4
}

inline void store_row(__m256i q0, __m256i q1, __m256i q2, __m256i q3, const int32_t* comp,
                      int32_t* dst) {
  alignas(32) int32_t t[32];
  _mm256_store_si256(reinterpret_cast<__m256i*>(t), q0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(t + 8), q1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(t + 16), q2);
  _mm256_store_si256(reinterpret_cast<__m256i*>(t + 24), q3);
  for (int c = 0; c < 16; ++c) {
    const uint32_t s = uint32_t(comp[c]) + uint32_t(t[2 * c]) + uint32_t(t[2 * c + 1]);
    std::memcpy(&dst[c], &s, 4);
  }
}

// Named accumulators (GCC spills an array of them every iteration).
template <int R>
void ukr(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B, int64_t /*bstride*/,
         const int32_t* comp, int32_t* tile) {
  const __m256i z = _mm256_setzero_si256();
  __m256i a0 = z, a1 = z, a2 = z, a3 = z, d0 = z, d1 = z, d2 = z, d3 = z;  // rows 0 and 1
  for (int64_t g = 0; g < kg; ++g) {
    const int8_t* bg = B + 64 * g;
    const __m256i b0 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bg)));
    const __m256i b1 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bg + 16)));
    const __m256i b2 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bg + 32)));
    const __m256i b3 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bg + 48)));
    const __m256i x0 = bcast_a(A + 4 * g);
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(x0, b0));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(x0, b1));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(x0, b2));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(x0, b3));
    if constexpr (R > 1) {
      const __m256i x1 = bcast_a(A + lda + 4 * g);
      d0 = _mm256_add_epi32(d0, _mm256_madd_epi16(x1, b0));
      d1 = _mm256_add_epi32(d1, _mm256_madd_epi16(x1, b1));
      d2 = _mm256_add_epi32(d2, _mm256_madd_epi16(x1, b2));
      d3 = _mm256_add_epi32(d3, _mm256_madd_epi16(x1, b3));
    }
  }
  store_row(a0, a1, a2, a3, comp, tile);
  if constexpr (R > 1) store_row(d0, d1, d2, d3, comp, tile + kTileLd);
}

}  // namespace

const QKernelSet& qkernels_avx2() {
  static const QKernelSet ks = kernel_set<2, 1>("avx2", [](auto r, auto) { return &ukr<r>; });
  return ks;
}

}  // namespace detail
}  // namespace nnforge
