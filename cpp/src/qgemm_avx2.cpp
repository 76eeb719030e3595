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

template <int R>
void ukr(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B, int64_t /*bstride*/,
         const int32_t* comp, int32_t* tile) {
  __m256i acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < 4; ++q) acc[r][q] = _mm256_setzero_si256();
  for (int64_t g = 0; g < kg; ++g) {
    __m256i b[4];
    for (int q = 0; q < 4; ++q)
      b[q] = _mm256_cvtepi8_epi16(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(B + 64 * g + 16 * q)));
    for (int r = 0; r < R; ++r) {
      int32_t a4;
      std::memcpy(&a4, A + r * lda + 4 * g, 4);
      const __m128i a16 = _mm_cvtepu8_epi16(_mm_cvtsi32_si128(a4));  // 4 int16 in the low 64 bits
      const __m256i a = _mm256_broadcastq_epi64(a16);
      for (int q = 0; q < 4; ++q)
        acc[r][q] = _mm256_add_epi32(acc[r][q], _mm256_madd_epi16(a, b[q]));
    }
  }
  for (int r = 0; r < R; ++r) {
    alignas(32) int32_t t[32];
    for (int q = 0; q < 4; ++q) _mm256_store_si256(reinterpret_cast<__m256i*>(t + 8 * q), acc[r][q]);
    for (int c = 0; c < 16; ++c) {
      const uint32_t s = uint32_t(comp[c]) + uint32_t(t[2 * c]) + uint32_t(t[2 * c + 1]);
      std::memcpy(&tile[r * kTileLd + c], &s, 4);
    }
  }
}

constexpr int MR = 2;

QKernelSet make() {
  QKernelSet ks{};
  ks.name = "avx2";
  ks.MR = MR;
  ks.NV = 1;
  ks.ukr[0][0] = &ukr<1>;
  ks.ukr[1][0] = &ukr<2>;
  return ks;
}

}  // namespace

const QKernelSet& qkernels_avx2() {
  static const QKernelSet ks = make();
  return ks;
}

}  // namespace detail
}  // namespace nnforge
