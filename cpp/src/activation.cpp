// Element-wise activations, row-wise softmax, bias add and bias gradient (see activation.h).
//
// Threading: element-wise loops are split into fixed-size blocks and run with OpenMP only when the
// array is large enough to amortise the fork/join (a batch-32 MLP calls these ~10k times/s on
// small arrays, which stay on the calling thread). Nothing here reduces across threads in a
// thread-count-dependent way: bias_grad sums fixed row blocks and combines them in a fixed order.
//
// Vectorisation: the inner span functions are compiled for AVX-512, AVX2 and baseline x86-64
// (GCC target_clones, chosen at load time) and written so GCC vectorises them at -O3. exp() is a
// Cephes-style polynomial (max rel. error ~2 ulp) because libm's expf does not vectorise without
// -ffast-math.
#include "nnforge/activation.h"


#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "elementwise.h"
#include "fast_math.h"
#include "nnforge/common.h"
#include "thread_pool.h"

namespace nnforge {
namespace {

using detail::fast_exp;
using detail::fast_sigmoid;
using detail::fast_tanh;
using detail::for_blocks;
using detail::kBlock;

constexpr int64_t kParallelCheap = 1 << 17;  // min elements before threading relu/linear/bias
constexpr int64_t kParallelExp = 1 << 15;    // min elements before threading exp-based ops

NNF_CLONES void fwd_relu(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
NNF_CLONES void fwd_sigmoid(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fast_sigmoid(x[i]);
}
NNF_CLONES void fwd_tanh(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = fast_tanh(x[i]);
}
NNF_CLONES void bwd_relu(const float* y, const float* dy, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
NNF_CLONES void bwd_sigmoid(const float* y, const float* dy, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (y[i] * (1.0f - y[i]));
}
NNF_CLONES void bwd_tanh(const float* y, const float* dy, float* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

void copy_span(const float* x, float* y, int64_t n) {
  if (x != y && n > 0) std::memmove(y, x, static_cast<size_t>(n) * sizeof(float));
}

// Reductions use 16 independent lanes (combined in a fixed order) so GCC can vectorise them
// without -ffast-math; the result depends only on cols, never on the thread count.
constexpr int kLanes = 16;

inline float lane_max(const float* x, int64_t n) {
  float acc[kLanes];
  for (int l = 0; l < kLanes; ++l) acc[l] = x[0];
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
  for (; j < n; ++j) acc[0] = x[j] > acc[0] ? x[j] : acc[0];
  float m = acc[0];
  for (int l = 1; l < kLanes; ++l) m = acc[l] > m ? acc[l] : m;
  return m;
}

inline float lane_sum(const float* x, int64_t n) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += x[j + l];
  for (; j < n; ++j) acc[0] += x[j];
  float s = 0.0f;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  return s;
}

NNF_CLONES void softmax_row(const float* x, float* y, int64_t cols) {
  const float m = lane_max(x, cols);
  for (int64_t j = 0; j < cols; ++j) y[j] = fast_exp(x[j] - m);
  const float inv = 1.0f / lane_sum(y, cols);
  for (int64_t j = 0; j < cols; ++j) y[j] *= inv;
}

// Rows narrower than a vector (a 10-class output): exp over each row alone would run scalar, so
// a block of rows is shifted by its row maxima first and exponentiated in one flat, vectorised
// pass. Bitwise the same as softmax_row (the same float x - m, exp, sum and scaling per row).
NNF_CLONES void softmax_rows_narrow(const float* x, float* y, int64_t r0, int64_t r1,
                                    int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    const float m = lane_max(xr, cols);
    for (int64_t j = 0; j < cols; ++j) yr[j] = xr[j] - m;
  }
  float* yb = y + r0 * cols;
  const int64_t n = (r1 - r0) * cols;
  for (int64_t i = 0; i < n; ++i) yb[i] = fast_exp(yb[i]);
  for (int64_t r = r0; r < r1; ++r) {
    float* yr = y + r * cols;
    const float inv = 1.0f / lane_sum(yr, cols);
    for (int64_t j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

NNF_CLONES void softmax_bwd_row(const float* y, const float* dy, float* dx, int64_t cols) {
  float acc[kLanes] = {};
  int64_t j0 = 0;
  for (; j0 + kLanes <= cols; j0 += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += dy[j0 + l] * y[j0 + l];
  for (; j0 < cols; ++j0) acc[0] += dy[j0] * y[j0];
  float s = 0.0f;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  for (int64_t j = 0; j < cols; ++j) dx[j] = y[j] * (dy[j] - s);
}

NNF_CLONES void bias_add_rows(float* y, const float* bias, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    float* row = y + r * cols;
    for (int64_t c = 0; c < cols; ++c) row[c] += bias[c];
  }
}

// Sums of columns [c0, c0 + W) over rows [r0, r1), the W running sums kept in registers (a
// loop over all columns per row would store and reload them every row).
template <int W>
inline __attribute__((always_inline)) void col_sums_block(const float* __restrict__ dy,
                                                          float* __restrict__ acc, int64_t r0,
                                                          int64_t r1, int64_t cols, int64_t c0) {
  float a[W];
  for (int j = 0; j < W; ++j) a[j] = 0.0f;
  for (int64_t r = r0; r < r1; ++r) {
    const float* __restrict__ row = dy + r * cols + c0;
#pragma GCC unroll 64
    for (int j = 0; j < W; ++j) a[j] += row[j];
  }
  for (int j = 0; j < W; ++j) acc[c0 + j] = a[j];
}

// acc[c] = sum of dy[r, c] for r in [r0, r1), added in increasing r (the order does not depend
// on the column blocking).
NNF_CLONES void col_sums(const float* dy, float* acc, int64_t r0, int64_t r1, int64_t cols) {
  int64_t c = 0;
  for (; c + 64 <= cols; c += 64) col_sums_block<64>(dy, acc, r0, r1, cols, c);
  for (; c + 16 <= cols; c += 16) col_sums_block<16>(dy, acc, r0, r1, cols, c);
  for (; c + 4 <= cols; c += 4) col_sums_block<4>(dy, acc, r0, r1, cols, c);
  for (; c < cols; ++c) col_sums_block<1>(dy, acc, r0, r1, cols, c);
}

NNF_CLONES void add_into(float* acc, const float* v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += v[i];
}

}  // namespace

void activation_forward(Act act, const float* x, float* y, int64_t n) {
  switch (act) {
    case Act::Linear:
      copy_span(x, y, n);
      return;
    case Act::ReLU:
      for_blocks(n, kParallelCheap, [&](int64_t o, int64_t c) { fwd_relu(x + o, y + o, c); });
      return;
    case Act::Sigmoid:
      for_blocks(n, kParallelExp, [&](int64_t o, int64_t c) { fwd_sigmoid(x + o, y + o, c); });
      return;
    case Act::Tanh:
      for_blocks(n, kParallelExp, [&](int64_t o, int64_t c) { fwd_tanh(x + o, y + o, c); });
      return;
  }
}

void activation_backward(Act act, const float* y, const float* dy, float* dx, int64_t n) {
  switch (act) {
    case Act::Linear:
      copy_span(dy, dx, n);
      return;
    case Act::ReLU:
      for_blocks(n, kParallelCheap,
                 [&](int64_t o, int64_t c) { bwd_relu(y + o, dy + o, dx + o, c); });
      return;
    case Act::Sigmoid:
      for_blocks(n, kParallelCheap,
                 [&](int64_t o, int64_t c) { bwd_sigmoid(y + o, dy + o, dx + o, c); });
      return;
    case Act::Tanh:
      for_blocks(n, kParallelCheap,
                 [&](int64_t o, int64_t c) { bwd_tanh(y + o, dy + o, dx + o, c); });
      return;
  }
}

void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  const bool par = rows > 1 && rows * cols >= kParallelExp && get_num_threads() > 1;
  if (cols < kLanes) {
    const int64_t rb = std::max<int64_t>(1, kBlock / cols);  // rows per block
    const int64_t nb = (rows + rb - 1) / rb;
    detail::parallel_for(0, nb, par && nb > 1 ? get_num_threads() : 1, [&](int64_t b) {
      softmax_rows_narrow(x, y, b * rb, std::min(rows, (b + 1) * rb), cols);
    });
    return;
  }
  detail::parallel_for(0, rows, par ? get_num_threads() : 1,
                       [&](int64_t r) { softmax_row(x + r * cols, y + r * cols, cols); });
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  const bool par = rows > 1 && rows * cols >= kParallelCheap && get_num_threads() > 1;
  detail::parallel_for(0, rows, par ? get_num_threads() : 1, [&](int64_t r) {
    softmax_bwd_row(y + r * cols, dy + r * cols, dx + r * cols, cols);
  });
}

void bias_add(float* y, const float* bias, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
  if (rows * cols < kParallelCheap || get_num_threads() <= 1 || rows == 1) {
    bias_add_rows(y, bias, 0, rows, cols);
    return;
  }
  const int64_t rb = std::max<int64_t>(1, kBlock / cols);
  const int64_t nb = (rows + rb - 1) / rb;
  detail::parallel_for(0, nb, get_num_threads(), [&](int64_t b) {
    bias_add_rows(y, bias, b * rb, std::min(rows, (b + 1) * rb), cols);
  });
}

void bias_grad(const float* dy, float* db, int64_t rows, int64_t cols) {
  if (cols <= 0) return;
  // Row blocks of a size that depends only on the shape; block b's partial sums are combined in
  // increasing b. Thread count only decides who computes which block, never the order.
  const int64_t rb = 1024;
  if (rows <= rb) {
    col_sums(dy, db, 0, rows < 0 ? 0 : rows, cols);
    return;
  }
  const int64_t nb = (rows + rb - 1) / rb;
  std::vector<float> part(static_cast<size_t>(nb * cols));
  const bool par = rows * cols >= kParallelCheap && get_num_threads() > 1;
  detail::parallel_for(0, nb, par ? get_num_threads() : 1, [&](int64_t b) {
    col_sums(dy, part.data() + b * cols, b * rb, std::min(rows, (b + 1) * rb), cols);
  });
  std::memcpy(db, part.data(), static_cast<size_t>(cols) * sizeof(float));
  for (int64_t b = 1; b < nb; ++b) add_into(db, part.data() + b * cols, cols);
}

}  // namespace nnforge
