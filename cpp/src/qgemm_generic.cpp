// Portable int8 micro-kernels (qgemm_kernels.h contract): plain loops over the packed layout,
// 32-bit unsigned arithmetic (wraps like vpdpbusd; the final sum fits in int32).
#include <cstring>

#include "qgemm_kernels.h"

namespace nnforge {
namespace detail {
namespace {

template <int R, int V>
void ukr(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B, int64_t bstride,
         const int32_t* comp, int32_t* tile) {
  uint32_t acc[R][16 * V];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < 16 * V; ++c) acc[r][c] = static_cast<uint32_t>(comp[c]);
  for (int64_t g = 0; g < kg; ++g) {
    for (int v = 0; v < V; ++v) {
      const int8_t* b = B + v * bstride + 64 * g;
      for (int r = 0; r < R; ++r) {
        const uint8_t* a = A + r * lda + 4 * g;
        for (int c = 0; c < 16; ++c) {
          int32_t s = 0;
          for (int t = 0; t < 4; ++t) s += int32_t(a[t]) * int32_t(b[4 * c + t]);
          acc[r][16 * v + c] += static_cast<uint32_t>(s);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < 16 * V; ++c) std::memcpy(&tile[r * kTileLd + c], &acc[r][c], 4);
}

}  // namespace

const QKernelSet& qkernels_generic() {
  static const QKernelSet ks = kernel_set<4, 1>("generic", [](auto r, auto) { return &ukr<r, 1>; });
  return ks;
}

}  // namespace detail
}  // namespace nnforge
