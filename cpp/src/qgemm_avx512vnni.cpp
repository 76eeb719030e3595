// AVX-512 VNNI int8 micro-kernels (qgemm_kernels.h contract). Compiled with -mavx512vnni; only
// called when the CPU has it (qgemm.cpp's dispatch).
//
// Micro-tile: up to MR = 8 rows x NV = 3 panels (48 columns): 24 zmm accumulators, 3 zmm of B
// (one per panel, 16 columns x 4 k) and one broadcast of 4 bytes of A per row. Per k-group of 4:
// 3 loads + 8 broadcasts feed 24 vpdpbusd (64 multiply-adds each).
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

template <int R, int V>
void ukr(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B, int64_t bstride,
         const int32_t* comp, int32_t* tile) {
  __m512i acc[R][V];
  for (int v = 0; v < V; ++v) {
    const __m512i c = _mm512_loadu_si512(comp + 16 * v);
    for (int r = 0; r < R; ++r) acc[r][v] = c;
  }
  for (int64_t g = 0; g < kg; ++g) {
    __m512i b[V];
    for (int v = 0; v < V; ++v) b[v] = _mm512_loadu_si512(B + v * bstride + 64 * g);
    for (int r = 0; r < R; ++r) {
      const __m512i a = _mm512_set1_epi32(load4(A + r * lda + 4 * g));
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], a, b[v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) _mm512_storeu_si512(tile + r * kTileLd + 16 * v, acc[r][v]);
}

constexpr int MR = 8, NV = 3;

template <int R, int V>
void fill(QKernelSet& ks) {
  ks.ukr[R - 1][V - 1] = &ukr<R, V>;
  if constexpr (V > 1) fill<R, V - 1>(ks);
  if constexpr (V == NV && R > 1) fill<R - 1, NV>(ks);
}

QKernelSet make() {
  QKernelSet ks{};
  ks.name = "avx512_vnni";
  ks.MR = MR;
  ks.NV = NV;
  fill<MR, NV>(ks);
  return ks;
}

}  // namespace

const QKernelSet& qkernels_avx512vnni() {
  static const QKernelSet ks = make();
  return ks;
}

}  // namespace detail
}  // namespace nnforge
