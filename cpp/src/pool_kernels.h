// Private to the pooling implementation: its row kernels, written with intrinsics per instruction
// set (pool_avx512.cpp, pool_avx2.cpp; the general-geometry ones once, in pool_simd.h) and as
// plain loops (pool.cpp), one set chosen at run time from cpu_isa() (NNFORGE_ISA honoured).
//
// The 2x2 functions handle one output row of 2x2, stride-2, unpadded pooling: x0, x1 are input
// rows 2*oh and 2*oh + 1 (from column 0, W*C floats each, of which the first 2*OW*C are read),
// y the output row (OW*C floats). The general ones take whole arrays and one output row (n, oh)
// (forward) or one dx row (n, ih) (backward), for any geometry whose windows each hold a real
// element. All versions compute bitwise the same results (same comparisons, same additions in
// the same order, no FMA), so the choice of instruction set never changes a result.
#pragma once
#include <cstdint>

#include "nnforge/pool.h"

namespace nnforge {
namespace detail {

struct Pool2x2Kernels {
  const char* name;
  // y = max of each 2x2 window, compared in row-major order with a strict > (the first of equal
  // values wins; NaN never replaces the running max). arg (nullable): the winner's index in its
  // window, 0 (top left), 1 (top right), 2 (bottom left), 3 (bottom right).
  void (*max_fwd)(const float* x0, const float* x1, float* y, uint8_t* arg, int64_t OW, int64_t C);
  // dx rows 2*oh, 2*oh + 1, columns [0, 2*OW): dy where arg names the element, else 0. gate
  // (nullable, dy's layout): dy only where gate > 0 (relu's gradient on the pooled output).
  void (*max_bwd)(const float* dy, const uint8_t* arg, const float* gate, float* dx0, float* dx1,
                  int64_t OW, int64_t C);
  // y = ((((0 + x00) + x01) + x10) + x11) * 0.25
  void (*avg_fwd)(const float* x0, const float* x1, float* y, int64_t OW, int64_t C);
  // dx = 0 + dy * 0.25 on all four elements of each window (columns [0, 2*OW)).
  void (*avg_bwd)(const float* dy, float* dx0, float* dx1, int64_t OW, int64_t C);

  // Any geometry (pool.h's max_pool2d_forward_local, max_pool2d_backward_windows with a uint8
  // argmax, avg_pool2d_forward / _backward), one row each; argmax nullable in max_fwd_any.
  void (*max_fwd_any)(const float* x, float* y, uint8_t* argmax, const Pool2DShape& s, int64_t n,
                      int64_t oh);
  void (*max_bwd_any)(const float* dy, const uint8_t* argmax, const float* gate, float* dx,
                      const Pool2DShape& s, int64_t n, int64_t ih);
  void (*avg_fwd_any)(const float* x, float* y, const Pool2DShape& s, int64_t n, int64_t oh);
  void (*avg_bwd_any)(const float* dy, float* dx, const Pool2DShape& s, int64_t n, int64_t ih);
};

const Pool2x2Kernels& pool2x2_generic();
const Pool2x2Kernels& pool2x2_avx2();
const Pool2x2Kernels& pool2x2_avx512();

}  // namespace detail
}  // namespace nnforge
