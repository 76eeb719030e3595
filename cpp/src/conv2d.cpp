// Conv2D forward / backward on NHWC via im2col + sgemm (see im2col.h).
//
//   forward          y[rows, F]   = act(cols[rows, K] @ w[K, F] + bias)       (sgemm_bias_act)
//   backward_input   dcols[rows,K] = dy[rows, F] @ w^T;  dx += col2im(dcols)  (sgemm + col2im)
//   backward_filter  dw[K, F]     += cols^T @ dy  chunk by chunk, beta = 1     (sgemm)
//                    db[F]         = column sums of dy                         (bias_grad)
// with rows = N*OH*OW and K = KH*KW*C. The rows are processed in chunks of whole output rows
// (r = n*OH + oh) so the cols scratch stays under kColsBudget bytes even for one large image; the
// scratch is a per-calling-thread buffer reused between calls. Chunk sizes depend only on the
// shape, and sgemm never splits its K reduction across threads, so every result is bitwise the
// same for any thread count. A 1x1, stride-1, unpadded, undilated convolution whose output has the
// input's spatial size is a plain GEMM on x viewed as (N*H*W, C) and skips im2col.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "im2col_rows.h"
#include "nnforge/activation.h"
#include "nnforge/common.h"
#include "nnforge/gemm.h"
#include "nnforge/im2col.h"

namespace nnforge {
namespace {

constexpr int64_t kColsBudget = 8ll << 20;  // bytes of im2col scratch per chunk
constexpr int64_t kSmallFilter = 4096;       // K*F at most this: rows reduced in fixed chunks
constexpr int64_t kReduceRows = 1024;        // im2col rows per chunk of that reduction

// Per-thread scratch, grown on demand (never beyond one chunk) and kept for the next call.
// Slot 0: im2col rows; slot 1: the activation-gradient rows beside them.
template <int Slot = 0>
float* scratch(int64_t floats) {
  thread_local std::unique_ptr<float[]> buf;
  thread_local int64_t cap = 0;
  if (floats > cap) {
    buf.reset();
    buf.reset(new float[static_cast<size_t>(floats)]);
    cap = floats;
  }
  return buf.get();
}

// The small-filter reduction shared by both filter gradients: shape-only test.
bool small_filter_chunks(const Conv2DShape& s) {
  const int64_t K = s.KH * s.KW * s.C, M = s.N * s.OH * s.OW;
  return K * s.F <= kSmallFilter && M >= 4 * kReduceRows;
}

// Output rows (r = n*OH + oh) per chunk: as many as fit the budget, at least one.
int64_t chunk_rows(const Conv2DShape& s) {
  const int64_t per_row = s.OW * s.KH * s.KW * s.C * static_cast<int64_t>(sizeof(float));
  if (per_row <= 0) return s.N * s.OH;
  return std::max<int64_t>(1, kColsBudget / per_row);
}

// Runs fn(cols, r0, r1) over the output rows [0, N*OH) in chunk_rows(s) chunks; cols is this
// thread's scratch for one chunk's im2col rows (chunk rows * OW rows of KH*KW*C floats).
template <class Fn>
void for_row_chunks(const Conv2DShape& s, Fn fn) {
  const int64_t R = s.N * s.OH, K = s.KH * s.KW * s.C;
  const int64_t cr = chunk_rows(s);
  float* cols = scratch(std::min(cr, R) * s.OW * K);
  for (int64_t r0 = 0; r0 < R; r0 += cr) fn(cols, r0, std::min(R, r0 + cr));
}

bool is_pointwise(const Conv2DShape& s) {
  return s.KH == 1 && s.KW == 1 && s.SH == 1 && s.SW == 1 && s.DH == 1 && s.DW == 1 &&
         s.pad_top == 0 && s.pad_left == 0 && s.OH == s.H && s.OW == s.W;
}

// dst[i] = part[i] + part[n + i] + ... over count partials, added in that order.
void sum_in_order(float* dst, const float* part, int64_t n, int64_t count) {
  std::memcpy(dst, part, static_cast<size_t>(n) * sizeof(float));
  for (int64_t c = 1; c < count; ++c)
    for (int64_t i = 0; i < n; ++i) dst[i] += part[c * n + i];
}

// The small-filter reduction (conv1: 27 x 32 over many rows), where one sgemm could only use
// one thread: the rows are cut into fixed chunks (their size depends on the shape alone), each
// thread does im2col + sgemm for its chunks into private partial sums (cols stay in L2), and
// the partials are added in chunk order: bitwise the same for any thread count. dz = dy, or
// with an activation (act != Linear, y its output) act'(y) * dy, formed per chunk in a
// per-thread buffer and never stored whole; db (nullable) is then summed from those chunks.
void filter_grad_chunks(const float* x, const float* y, const float* dy, Act act, float* dw,
                        float* db, const Conv2DShape& s) {
  const int64_t R = s.N * s.OH, K = s.KH * s.KW * s.C, F = s.F;
  const int64_t rpc = std::max<int64_t>(1, kReduceRows / s.OW);  // output rows per chunk
  const int64_t nchunks = (R + rpc - 1) / rpc;
  std::vector<float> part(static_cast<size_t>(nchunks * K * F));
  std::vector<float> partb(db ? static_cast<size_t>(nchunks * F) : 0);
#pragma omp parallel for schedule(static) num_threads(get_num_threads())
  for (int64_t c = 0; c < nchunks; ++c) {
    const int64_t r0 = c * rpc, r1 = std::min(R, r0 + rpc), m = (r1 - r0) * s.OW;
    const float* dz = dy + r0 * s.OW * F;
    if (act != Act::Linear) {
      float* buf = scratch<1>(rpc * s.OW * F);
      activation_backward(act, y + r0 * s.OW * F, dz, buf, m * F);
      dz = buf;
    }
    if (db) bias_grad(dz, partb.data() + c * F, m, F);
    float* cols = scratch(rpc * s.OW * K);
    detail::im2col_rows(x, cols, s, r0, r1);
    sgemm(true, false, K, F, m, 1.0f, cols, K, dz, F, 0.0f, part.data() + c * K * F, F);
  }
  sum_in_order(dw, part.data(), K * F, nchunks);
  if (db) sum_in_order(db, partb.data(), F, nchunks);
}

}  // namespace

void conv2d_forward(const float* x, const float* w, const float* bias, Act act, float* y,
                    const Conv2DShape& s) {
  const int64_t R = s.N * s.OH;  // output rows
  const int64_t M = R * s.OW, K = s.KH * s.KW * s.C, F = s.F;
  if (M <= 0 || F <= 0) return;
  if (K == 0) {  // no input channels: y = act(bias)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t f = 0; f < F; ++f) y[i * F + f] = bias ? bias[f] : 0.0f;
    activation_forward(act, y, y, M * F);
    return;
  }
  if (is_pointwise(s)) {
    sgemm_bias_act(false, false, M, F, K, x, K, w, F, bias, act, y, F);
    return;
  }
  for_row_chunks(s, [&](float* cols, int64_t r0, int64_t r1) {
    detail::im2col_rows(x, cols, s, r0, r1);
    sgemm_bias_act(false, false, (r1 - r0) * s.OW, F, K, cols, K, w, F, bias, act,
                   y + r0 * s.OW * F, F);
  });
}

void conv2d_backward_input(const float* dy, const float* w, float* dx, const Conv2DShape& s) {
  const int64_t img = s.H * s.W * s.C;
  if (s.N <= 0 || img <= 0) return;
  const int64_t R = s.N * s.OH;
  const int64_t M = R * s.OW, K = s.KH * s.KW * s.C, F = s.F;
  if (is_pointwise(s) && M > 0) {
    sgemm(false, true, M, K, F, 1.0f, dy, F, w, F, 0.0f, dx, K);  // dx = dy @ w^T
    return;
  }
  std::memset(dx, 0, static_cast<size_t>(s.N * img) * sizeof(float));
  if (M <= 0 || F <= 0) return;  // no output (or no filters): the gradient is zero
  for_row_chunks(s, [&](float* cols, int64_t r0, int64_t r1) {
    const int64_t m = (r1 - r0) * s.OW;
    sgemm(false, true, m, K, F, 1.0f, dy + r0 * s.OW * F, F, w, F, 0.0f, cols, K);
    detail::col2im_rows_acc(cols, dx, s, r0, r1);
  });
}

void conv2d_backward_filter(const float* x, const float* dy, float* dw, float* db,
                            const Conv2DShape& s) {
  const int64_t R = s.N * s.OH;
  const int64_t M = R * s.OW, K = s.KH * s.KW * s.C, F = s.F;
  if (F <= 0) return;
  if (db) bias_grad(dy, db, M > 0 ? M : 0, F);
  if (K <= 0) return;
  if (M <= 0) {
    std::memset(dw, 0, static_cast<size_t>(K * F) * sizeof(float));
    return;
  }
  if (is_pointwise(s)) {
    sgemm(true, false, K, F, M, 1.0f, x, K, dy, F, 0.0f, dw, F);  // dw = x^T @ dy
    return;
  }
  if (small_filter_chunks(s)) {  // shape-only test: same path for any thread count
    filter_grad_chunks(x, nullptr, dy, Act::Linear, dw, nullptr, s);
    return;
  }
  for_row_chunks(s, [&](float* cols, int64_t r0, int64_t r1) {
    detail::im2col_rows(x, cols, s, r0, r1);
    sgemm(true, false, K, F, (r1 - r0) * s.OW, 1.0f, cols, K, dy + r0 * s.OW * F, F,
          r0 == 0 ? 0.0f : 1.0f, dw, F);
  });
}

void conv2d_backward_filter_act(const float* x, const float* y, const float* dy, Act act,
                                float* dw, float* db, const Conv2DShape& s) {
  const int64_t R = s.N * s.OH;
  const int64_t M = R * s.OW, K = s.KH * s.KW * s.C, F = s.F;
  if (act == Act::Linear) {
    conv2d_backward_filter(x, dy, dw, db, s);
    return;
  }
  if (F <= 0) return;
  if (K <= 0 || M <= 0 || !small_filter_chunks(s)) {
    std::vector<float> dz(static_cast<size_t>(std::max<int64_t>(M, 0) * F));
    if (M > 0) activation_backward(act, y, dy, dz.data(), M * F);
    conv2d_backward_filter(x, dz.data(), dw, db, s);
    return;
  }
  filter_grad_chunks(x, y, dy, act, dw, db, s);
}

}  // namespace nnforge
