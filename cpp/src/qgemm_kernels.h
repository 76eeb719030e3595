// Private to the int8 GEMM: micro-kernel and epilogue contract shared by qgemm.cpp (driver) and
// the ISA files (qgemm_avx512vnni.cpp, qgemm_avxvnni.cpp, qgemm_avx2.cpp, qgemm_generic.cpp).
//
// Operands (see nnforge/qgemm.h for the packed weights):
//   A: unsigned activations, u8 = q + 128, row r of the micro-panel at A + r*lda, bytes
//      [0, 4*kg) readable (K padded to a multiple of 4; padding bytes arbitrary: W is 0 there).
//   B: the first of nv weight panels, panel v at B + v*bstride, k-group g of it at + 64*g
//      (16 columns x 4 consecutive k, one 32-bit lane per column).
//   comp: comp[16*v + c] for the nv panels.
// A micro-kernel ukr[mr-1][nv-1] writes the exact int32 tile
//   tile[r*kTileLd + c] = comp[c] + sum_{k < 4*kg} A(r, k) * B(k, c)   (mod 2^32)
// for r < mr, c < 16*nv. The sum is exact integer arithmetic, so every ISA gives the same tile.
// The driver's epilogue (one portable function for every ISA: identical floats on every path)
// then turns the tile into the output.
#pragma once
#include <cstdint>

namespace nnforge {
namespace detail {

constexpr int kQMaxMR = 16;
constexpr int kQMaxNV = 4;
constexpr int kTileLd = 16 * kQMaxNV;

using qukr_fn = void (*)(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B,
                         int64_t bstride, const int32_t* comp, int32_t* tile);

struct QKernelSet {
  const char* name;
  int MR;  // max rows of a micro-tile
  int NV;  // max 16-column panels of a micro-tile
  qukr_fn ukr[kQMaxMR][kQMaxNV];
};

const QKernelSet& qkernels_avx512vnni();
const QKernelSet& qkernels_avxvnni();
const QKernelSet& qkernels_avx2();
const QKernelSet& qkernels_generic();

}  // namespace detail
}  // namespace nnforge
