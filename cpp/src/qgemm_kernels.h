// Private to the int8 GEMM: micro-kernel and epilogue contract shared by qgemm.cpp (driver) and
// the ISA files (qgemm_amx.cpp, qgemm_avx512vnni.cpp, qgemm_avxvnni.cpp, qgemm_avx2.cpp,
// qgemm_generic.cpp).
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
#include <type_traits>
#include <utility>

namespace nnforge {
namespace detail {

constexpr int kQMaxMR = 32;
constexpr int kQMaxNV = 4;
constexpr int kTileLd = 16 * kQMaxNV;

using qukr_fn = void (*)(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B,
                         int64_t bstride, const int32_t* comp, int32_t* tile);

// What the epilogue writes for rows i..i+mr, columns j..j+nr of the output:
//   mode 0: the int32 tile;  1: float y;  2: int8 q127(y * out_scale), where
//   y = act(float(acc) / (xs[row] * ws[col]) + bias[col])  (bias nullable), evaluated in this
//   order in float32; q127(v) = clip(round_half_even(v), -127, 127), NaN -> 0.
// relu (act 1) is max(y, 0) keeping NaN; sigmoid/tanh (act 2, 3) go through act_row (the portable
// fast_math code), so every ISA's epilogue gives identical bits.
struct QEpi {
  int mode;
  const float* xs;    // per row, indexed like the output rows
  const float* ws;    // per column
  const float* bias;  // nullable
  int act;
  float out_scale;
  void* out;          // row 0 of the output
  int64_t ldo;        // output row stride (elements)
  void (*act_row)(float* y, int n, int act);
};
using qepi_fn = void (*)(const QEpi& ep, const int32_t* tile, int64_t i, int mr, int64_t j,
                         int nr);
// Rows [r0, r1) of x (row stride ldx) -> u8 rows of a (stride lda: q + 128, bytes [K, lda) set
// to 128) and their scales: static_scale > 0: that one; else 127 / (max|row| + 1e-7) (float32).
using qquant_fn = void (*)(const float* x, int64_t r0, int64_t r1, int64_t K, int64_t ldx,
                           float static_scale, uint8_t* a, int64_t lda, float* scale);

struct QKernelSet {
  const char* name;
  int MR;  // max rows of a micro-tile
  int NV;  // max 16-column panels of a micro-tile
  qukr_fn ukr[kQMaxMR][kQMaxNV];
  qepi_fn epi;      // nullable: the portable one
  qquant_fn quant;  // nullable: the portable one
  // A's layout the kernels need: row stride lda a multiple of lda_align bytes (4, or 64 for
  // AMX, whose tiles read 64 k at a time), and rows readable up to a multiple of row_align past
  // any micro-panel start (1, or 32 for AMX, whose tiles read 16 rows at a time).
  int lda_align = 4;
  int row_align = 1;
  // Nullable: called by each thread after its last micro-kernel of a call (AMX releases its
  // tile state there, so an idle thread holds none).
  void (*finish)() = nullptr;
};

// A kernel set named `name` whose table holds ukr[r-1][v-1] = pick(r, v) for every r <= MR,
// v <= NV (r, v as std::integral_constant, so pick can name a template instance: `[](auto r,
// auto v) { return &ukr<r, v>; }`); the other members keep their defaults (nullable = portable).
template <int MR, int NV, class Pick, int... I>
void fill_ukr(QKernelSet& ks, Pick pick, std::integer_sequence<int, I...>) {
  ((ks.ukr[I / NV][I % NV] = pick(std::integral_constant<int, I / NV + 1>{},
                                  std::integral_constant<int, I % NV + 1>{})),
   ...);
}

template <int MR, int NV, class Pick>
QKernelSet kernel_set(const char* name, Pick pick) {
  static_assert(MR >= 1 && MR <= kQMaxMR && NV >= 1 && NV <= kQMaxNV, "micro-tile too large");
  QKernelSet ks{};
  ks.name = name;
  ks.MR = MR;
  ks.NV = NV;
  fill_ukr<MR, NV>(ks, pick, std::make_integer_sequence<int, MR * NV>{});
  return ks;
}

const QKernelSet& qkernels_avx512vnni();
const QKernelSet& qkernels_avxvnni();
const QKernelSet& qkernels_avx2();
const QKernelSet& qkernels_generic();
const QKernelSet& qkernels_amx();
bool amx_available();  // CPU has AMX-INT8 and the OS granted the tile state to this process

}  // namespace detail
}  // namespace nnforge
