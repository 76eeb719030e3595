// Conv2D forward / backward on NHWC via im2col + sgemm (see im2col.h).
//
//   forward          y[rows, F]   = act(cols[rows, K] @ w[K, F] + bias)       (sgemm_bias_act)
//   backward_input   dcols[rows,K] = dy[rows, F] @ w^T;  dx += col2im(dcols)  (sgemm + col2im)
//   backward_filter  dw[K, F]     = sum over row chunks of cols^T @ dz         (sgemm)
//                    db[F]         = column sums of dz                         (bias_grad)
// with rows = N*OH*OW, K = KH*KW*C and dz = dy, or act'(y) * dy with a fused activation.
//
// Cache tiles. The im2col rows of a tile are written and read back while they are in this
// core's L2: the rows are cut into tiles whose cols take about a quarter of the L2
// (cpu_cache_sizes(), read at run time), and each thread runs im2col + a single-threaded sgemm
// on its own tiles (forward: tiles of whole output rows; backward_input: tiles of whole images,
// so every dx element gets all its contributions from one tile, in col2im's fixed order). A
// tile's size changes no arithmetic: sgemm's per-element sums depend only on K, so the outputs
// are bitwise the same for any tile size and thread count. The filter gradient reduces over
// rows: fixed chunks (their size depends on the shape alone) are dealt to a fixed number of
// groups, each group's chunks are accumulated in order into the group's partial sum, and the
// partials are added in group order: bitwise the same for any thread count too. Images whose
// cols do not fit kColsBudget, and filters too large for per-group partial sums, take the
// chunked single-sgemm path (the sgemm's own threads). A 1x1, stride-1, unpadded, undilated
// convolution whose output has the input's spatial size is a plain GEMM on x viewed as
// (N*H*W, C) and skips im2col. 3x3 stride-1 convolutions with enough channels take Winograd's
// F(2x2, 3x3) instead, forward and backward_input (winograd.h).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "im2col_rows.h"
#include "thread_pool.h"
#include "winograd.h"
#include "nnforge/activation.h"
#include "nnforge/common.h"
#include "nnforge/gemm.h"
#include "nnforge/im2col.h"
#include "nnforge/pool.h"

namespace nnforge {
namespace {

constexpr int64_t kColsBudget = 8ll << 20;   // bytes of im2col scratch per chunk (fallback path)
constexpr int64_t kReduceBytes = 256 << 10;  // filter gradient: cols bytes per reduction chunk
constexpr int64_t kMaxGroups = 16;           // filter gradient: partial sums, at most
constexpr int64_t kGroupBytes = 32ll << 20;  // ... and at most this many bytes of them
constexpr int64_t kMinTileMNK = 1 << 16;     // a tile's sgemm stays far above sgemm's tiny path
constexpr int64_t kTinyMNK = 4096;           // sgemm's tiny path (direct loops): M*N*K <= this

// Per-thread scratch, grown on demand and kept for the next call.
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

// Bytes of im2col rows a cache tile aims at: a quarter of this core's L2 (256 KiB if unknown),
// leaving room for the tile's output rows and the packed filter.
int64_t tile_bytes() {
  const int64_t l2 = cpu_cache_sizes().l2;
  return l2 > 0 ? std::max<int64_t>(l2 / 4, 64 << 10) : (256 << 10);
}

// Output rows (r = n*OH + oh) per chunk of the fallback path: as many as fit the budget.
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

// How `units` (output rows or images) of `unit_bytes` scratch each (im2col rows, or a fused
// chunk's convolution output) are cut into tiles: tile t holds units [t*units/n,
// (t+1)*units/n) of n tiles. About tile_bytes() of scratch per tile, at least one
// tile per thread where there are enough units (a multiple of the thread count where that costs
// nothing), and every tile's sgemm (M = its rows, N = F, K) at least kMinTileMNK: far from
// sgemm's tiny path, whose arithmetic differs, so the tiling never shows in the result.
int64_t tile_count(int64_t units, int64_t unit_bytes, int64_t unit_mnk, int T) {
  const int64_t per = std::max<int64_t>(1, tile_bytes() / std::max<int64_t>(unit_bytes, 1));
  int64_t n = (units + per - 1) / per;
  n = n < T ? std::min<int64_t>(units, T) : (n + T - 1) / T * T;
  const int64_t min_units = (kMinTileMNK + unit_mnk - 1) / std::max<int64_t>(unit_mnk, 1);
  return std::max<int64_t>(1, std::min(n, units / std::max<int64_t>(min_units, 1)));
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

// The filter gradient's reduction layout, from the shape alone: chunks of `rpc` output rows
// (about kReduceBytes of cols), dealt in contiguous runs to `groups` partial sums.
struct ReducePlan {
  int64_t rpc = 0, nchunks = 0, groups = 0;
};

ReducePlan reduce_plan(const Conv2DShape& s) {
  ReducePlan p;
  const int64_t R = s.N * s.OH, K = s.KH * s.KW * s.C;
  const int64_t row_bytes = s.OW * K * static_cast<int64_t>(sizeof(float));
  p.rpc = std::max<int64_t>(1, kReduceBytes / std::max<int64_t>(row_bytes, 1));
  p.nchunks = (R + p.rpc - 1) / p.rpc;
  const int64_t by_bytes = kGroupBytes / std::max<int64_t>(K * s.F * 4, 1);
  p.groups = std::min({std::max<int64_t>(p.nchunks / 2, 1), kMaxGroups, by_bytes});
  return p;
}

// Grouped reduction worth it: at least two groups (of at least two chunks) to share out.
bool grouped_filter_grad(const ReducePlan& p) { return p.groups >= 2; }

// dw (and db, nullable) over the plan's groups: group g owns chunks [g*n/G, (g+1)*n/G) and
// accumulates them in order into its partial (sgemm beta = 1 after its first chunk); each
// chunk's dz is act'(y) * dy formed in a per-thread buffer beside its cols (or dy itself when
// act is Linear). db is bias_grad of dy when act is Linear; otherwise dz's per-chunk column sums
// are kept apart and added in chunk order.
void filter_grad_grouped(const float* x, const float* y, const float* dy, Act act, float* dw,
                         float* db, const Conv2DShape& s, const ReducePlan& p) {
  const int64_t R = s.N * s.OH, K = s.KH * s.KW * s.C, F = s.F, G = p.groups;
  if (db && act == Act::Linear) {  // dz = dy: db is bias_grad of dy itself, in one pass
    bias_grad(dy, db, R * s.OW, F);
    db = nullptr;
  }
  std::vector<float> part(static_cast<size_t>(G * K * F));
  std::vector<float> partb(db ? static_cast<size_t>(p.nchunks * F) : 0);
  // Groups go to whichever thread asks next (thread_pool.h: on shared cores a running thread
  // takes the groups of a descheduled one); a group's sum does not depend on who forms it.
  detail::parallel_chunks(G, get_num_threads(), [&](int64_t g) {
    const int64_t c0 = g * p.nchunks / G, c1 = (g + 1) * p.nchunks / G;
    float* acc = part.data() + g * K * F;
    for (int64_t c = c0; c < c1; ++c) {
      const int64_t r0 = c * p.rpc, r1 = std::min(R, r0 + p.rpc), m = (r1 - r0) * s.OW;
      const float* dz = dy + r0 * s.OW * F;
      if (act != Act::Linear) {
        float* buf = scratch<1>(p.rpc * s.OW * F);
        activation_backward(act, y + r0 * s.OW * F, dz, buf, m * F);
        dz = buf;
      }
      if (db) bias_grad(dz, partb.data() + c * F, m, F);
      float* cols = scratch(p.rpc * s.OW * K);
      detail::im2col_rows(x, cols, s, r0, r1);
      sgemm(true, false, K, F, m, 1.0f, cols, K, dz, F, c == c0 ? 0.0f : 1.0f, acc, F);
    }
  });
  sum_in_order(dw, part.data(), K * F, G);
  if (db) sum_in_order(db, partb.data(), F, p.nchunks);
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
  if (detail::winograd_applies(s)) {
    detail::winograd_conv3x3(x, w, bias, act, y, s);
    return;
  }
  // Cache tiles of whole output rows, one thread each (see the top of the file).
  const int T = get_num_threads();
  const int64_t row_bytes = s.OW * K * static_cast<int64_t>(sizeof(float));
  const int64_t ntiles = tile_count(R, row_bytes, s.OW * K * F, T);
  const int64_t per = (R + ntiles - 1) / ntiles;  // rows in the largest tile
  detail::parallel_chunks(ntiles, T, [&](int64_t t) {
    const int64_t r0 = t * R / ntiles, r1 = (t + 1) * R / ntiles;
    float* cols = scratch(per * s.OW * K);
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
  if (M <= 0 || F <= 0) {  // no output (or no filters): the gradient is zero
    std::memset(dx, 0, static_cast<size_t>(s.N * img) * sizeof(float));
    return;
  }
  if (detail::winograd_conv3x3_backward_input(dy, w, dx, s)) return;
  const int64_t img_bytes = s.OH * s.OW * K * static_cast<int64_t>(sizeof(float));
  if (img_bytes <= kColsBudget) {
    // Cache tiles of whole images, one thread each (see the top of the file).
    const int T = get_num_threads();
    const int64_t ntiles = tile_count(s.N, img_bytes, s.OH * s.OW * K * F, T);
    const int64_t per = (s.N + ntiles - 1) / ntiles;  // images in the largest tile
    detail::parallel_chunks(ntiles, T, [&](int64_t t) {
      const int64_t n0 = t * s.N / ntiles, n1 = (t + 1) * s.N / ntiles;
      const int64_t m = (n1 - n0) * s.OH * s.OW;
      float* cols = scratch(per * s.OH * s.OW * K);
      sgemm(false, true, m, K, F, 1.0f, dy + n0 * s.OH * s.OW * F, F, w, F, 0.0f, cols, K);
      std::memset(dx + n0 * img, 0, static_cast<size_t>((n1 - n0) * img) * sizeof(float));
      detail::col2im_rows_acc(cols, dx, s, n0 * s.OH, n1 * s.OH);
    });
    return;
  }
  std::memset(dx, 0, static_cast<size_t>(s.N * img) * sizeof(float));
  for_row_chunks(s, [&](float* cols, int64_t r0, int64_t r1) {
    const int64_t m = (r1 - r0) * s.OW;
    sgemm(false, true, m, K, F, 1.0f, dy + r0 * s.OW * F, F, w, F, 0.0f, cols, K);
    detail::col2im_rows_acc(cols, dx, s, r0, r1);
  });
}

void conv2d_backward_filter(const float* x, const float* dy, float* dw, float* db,
                            const Conv2DShape& s) {
  conv2d_backward_filter_act(x, nullptr, dy, Act::Linear, dw, db, s);
}

void conv2d_backward_filter_act(const float* x, const float* y, const float* dy, Act act,
                                float* dw, float* db, const Conv2DShape& s) {
  const int64_t R = s.N * s.OH;
  const int64_t M = R * s.OW, K = s.KH * s.KW * s.C, F = s.F;
  if (F <= 0) return;
  const ReducePlan plan = reduce_plan(s);
  if (K > 0 && M > 0 && !is_pointwise(s) && grouped_filter_grad(plan)) {
    filter_grad_grouped(x, y, dy, act, dw, db, s, plan);
    return;
  }
  // The rest: dz formed whole (with an activation), then one sgemm per chunk of rows.
  std::vector<float> dzbuf;
  const float* dz = dy;
  if (act != Act::Linear && M > 0) {
    dzbuf.resize(static_cast<size_t>(M * F));
    activation_backward(act, y, dy, dzbuf.data(), M * F);
    dz = dzbuf.data();
  }
  if (db) bias_grad(dz, db, M > 0 ? M : 0, F);
  if (K <= 0) return;
  if (M <= 0) {
    std::memset(dw, 0, static_cast<size_t>(K * F) * sizeof(float));
    return;
  }
  if (is_pointwise(s)) {
    sgemm(true, false, K, F, M, 1.0f, x, K, dz, F, 0.0f, dw, F);  // dw = x^T @ dz
    return;
  }
  for_row_chunks(s, [&](float* cols, int64_t r0, int64_t r1) {
    detail::im2col_rows(x, cols, s, r0, r1);
    sgemm(true, false, K, F, (r1 - r0) * s.OW, 1.0f, cols, K, dz + r0 * s.OW * F, F,
          r0 == 0 ? 0.0f : 1.0f, dw, F);
  });
}

bool conv2d_max_pool_forward(const float* x, const float* w, const float* bias, Act act,
                             float* out, uint8_t* argmax, const Conv2DShape& s,
                             const Pool2DShape& p) {
  const int64_t img_y = s.OH * s.OW * s.F;  // floats of one image's convolution output
  // Not for images so small that one image's GEMM (OH*OW x F x K) would take sgemm's tiny
  // path, whose arithmetic differs: the chunk's result would not be the batch's.
  if (s.N <= 0 || img_y <= 0 || img_y * static_cast<int64_t>(sizeof(float)) > kColsBudget ||
      img_y * s.KH * s.KW * s.C <= kTinyMNK)
    return false;
  // Chunks of whole images, one thread each: the convolution's output goes to this thread's
  // scratch and is pooled from there, while it is in L2. Both kernels are the unfused ones, run
  // on the chunk (their results do not depend on how the batch is cut): bitwise the same as
  // conv2d_forward followed by max_pool2d_forward.
  const int T = get_num_threads();
  const int64_t n = tile_count(s.N, img_y * static_cast<int64_t>(sizeof(float)),
                               img_y * s.KH * s.KW * s.C, T);
  const int64_t per = (s.N + n - 1) / n;  // images in the largest chunk
  const int64_t img_x = s.H * s.W * s.C, img_out = p.OH * p.OW * p.C;
  // A Winograd convolution's filter transform is done once for all chunks.
  const bool wino = detail::winograd_applies(s);
  const std::vector<float> U = wino ? detail::winograd_filter(w, s.C, s.F) : std::vector<float>();
  detail::parallel_chunks(n, T, [&](int64_t t) {
    const int64_t n0 = t * s.N / n, n1 = (t + 1) * s.N / n;
    float* ybuf = scratch<2>(per * img_y);
    Conv2DShape sc = s;
    sc.N = n1 - n0;
    Pool2DShape pc = p;
    pc.N = n1 - n0;
    if (wino)
      detail::winograd_conv3x3_transformed(x + n0 * img_x, U.data(), bias, act, ybuf, sc);
    else
      conv2d_forward(x + n0 * img_x, w, bias, act, ybuf, sc);
    if (argmax)
      max_pool2d_forward_local(ybuf, out + n0 * img_out, argmax + n0 * img_out, pc);
    else
      max_pool2d_forward(ybuf, out + n0 * img_out, nullptr, pc);
  });
  return true;
}

}  // namespace nnforge
