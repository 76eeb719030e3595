// AVX-VNNI (VEX-encoded vpdpbusd on ymm, e.g. Alder Lake, and Sapphire Rapids without using zmm)
// int8 micro-kernels (qgemm_kernels.h contract). Only called when the CPU has AVX-VNNI.
//
// Micro-tile: up to MR = 6 rows x 1 panel (16 columns = 2 ymm): 12 ymm accumulators, 2 ymm of B,
// one broadcast of A (15 of the 16 ymm registers).
#include <immintrin.h>

#include <cstring>

#include "qgemm_kernels.h"

namespace nnforge {
namespace detail {
namespace {

inline int32_t load4(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Named accumulators (GCC spills an array of them every iteration); unused ones vanish.
#define NNF_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)
template <int R>
void ukr(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B, int64_t /*bstride*/,
         const int32_t* comp, int32_t* tile) {
  const __m256i k0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(comp));
  const __m256i k1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(comp + 8));
#define NNF_INIT(r) __m256i c##r##0 = k0, c##r##1 = k1;
  NNF_ROWS(NNF_INIT)
#undef NNF_INIT
  for (int64_t g = 0; g < kg; ++g) {
    const __m256i b0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B + 64 * g));
    const __m256i b1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(B + 64 * g + 32));
#define NNF_STEP(r)                                                    \
    if constexpr (R > r) {                                             \
      const __m256i a = _mm256_set1_epi32(load4(A + r * lda + 4 * g)); \
      c##r##0 = _mm256_dpbusd_avx_epi32(c##r##0, a, b0);               \
      c##r##1 = _mm256_dpbusd_avx_epi32(c##r##1, a, b1);               \
    }
    NNF_ROWS(NNF_STEP)
#undef NNF_STEP
  }
#define NNF_STORE(r)                                                                    \
  if constexpr (R > r) {                                                                \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * kTileLd), c##r##0);       \
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(tile + r * kTileLd + 8), c##r##1);   \
  }
  NNF_ROWS(NNF_STORE)
#undef NNF_STORE
}
#undef NNF_ROWS

}  // namespace

const QKernelSet& qkernels_avxvnni() {
  static const QKernelSet ks = kernel_set<6, 1>("avx_vnni", [](auto r, auto) { return &ukr<r>; });
  return ks;
}

}  // namespace detail
}  // namespace nnforge
