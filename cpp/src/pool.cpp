// 2-D max / average pooling on NHWC tensors (see pool.h).
//
// Forward: one task per output row (n, oh), threaded when the whole job is large; each output
// pixel walks only the real (non-padding) part of its window, vectorised over channels.
// Backward: dx is zeroed and the gradient scattered image by image (one image per task), so each
// dx element receives its contributions in a fixed order whatever the thread count.
#include "nnforge/pool.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "nnforge/common.h"

namespace nnforge {
namespace {

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define NNF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NNF_CLONES
#endif

constexpr int64_t kParallelWork = 1 << 16;

struct Window {
  int64_t h0, h1, w0, w1;  // real rows [h0, h1), real columns [w0, w1)
};

inline Window window(const Pool2DShape& s, int64_t oh, int64_t ow) {
  const int64_t hs = oh * s.SH - s.pad_top, ws = ow * s.SW - s.pad_left;
  Window w;
  w.h0 = std::max<int64_t>(hs, 0);
  w.h1 = std::min<int64_t>(hs + s.KH, s.H);
  w.w0 = std::max<int64_t>(ws, 0);
  w.w1 = std::min<int64_t>(ws + s.KW, s.W);
  return w;
}

// work is a double: KH*KW may be large and the product is only a size estimate.
inline bool threaded(double work, int64_t tasks) {
  return tasks > 1 && work >= static_cast<double>(kParallelWork) && get_num_threads() > 1;
}

// Running max over one window element, vectorisable over channels: branch-free selects (NaN
// never wins, as with a plain `>` test), restrict pointers, an AVX-512/AVX2 clone picked at run
// time.
NNF_CLONES void max_step_arg(const float* __restrict__ xp, float* __restrict__ yo,
                             int32_t* __restrict__ ao, int32_t base, int64_t C) {
  for (int64_t c = 0; c < C; ++c) {
    const float v = xp[c];
    const bool gt = v > yo[c];
    yo[c] = gt ? v : yo[c];
    ao[c] = gt ? base + static_cast<int32_t>(c) : ao[c];
  }
}

NNF_CLONES void max_step(const float* __restrict__ xp, float* __restrict__ yo, int64_t C) {
  for (int64_t c = 0; c < C; ++c) yo[c] = xp[c] > yo[c] ? xp[c] : yo[c];
}

NNF_CLONES void iota_from(int32_t* __restrict__ ao, int32_t first, int64_t C) {
  for (int64_t c = 0; c < C; ++c) ao[c] = first + static_cast<int32_t>(c);
}

void max_row(const float* x, float* y, int32_t* argmax, const Pool2DShape& s, int64_t n,
             int64_t oh) {
  const int64_t C = s.C;
  const float* xi = x + n * s.H * s.W * C;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    float* yo = y + ((n * s.OH + oh) * s.OW + ow) * C;
    int32_t* ao = argmax ? argmax + ((n * s.OH + oh) * s.OW + ow) * C : nullptr;
    const Window w = window(s, oh, ow);
    if (w.h0 >= w.h1 || w.w0 >= w.w1) {  // no real element (the bindings refuse such geometry)
      for (int64_t c = 0; c < C; ++c) yo[c] = 0.0f;
      if (ao)
        for (int64_t c = 0; c < C; ++c) ao[c] = -1;
      continue;
    }
    // First real element initialises the max, so padding never wins and argmax is always valid.
    const int64_t first = (w.h0 * s.W + w.w0) * C;
    std::memcpy(yo, xi + first, static_cast<size_t>(C) * sizeof(float));
    if (ao) {
      iota_from(ao, static_cast<int32_t>(first), C);
      for (int64_t ih = w.h0; ih < w.h1; ++ih)
        for (int64_t iw = (ih == w.h0 ? w.w0 + 1 : w.w0); iw < w.w1; ++iw) {
          const int64_t base = (ih * s.W + iw) * C;
          max_step_arg(xi + base, yo, ao, static_cast<int32_t>(base), C);
        }
    } else {
      for (int64_t ih = w.h0; ih < w.h1; ++ih)
        for (int64_t iw = (ih == w.h0 ? w.w0 + 1 : w.w0); iw < w.w1; ++iw)
          max_step(xi + (ih * s.W + iw) * C, yo, C);
    }
  }
}

void avg_row(const float* x, float* y, const Pool2DShape& s, int64_t n, int64_t oh) {
  const int64_t C = s.C;
  const float* xi = x + n * s.H * s.W * C;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    float* yo = y + ((n * s.OH + oh) * s.OW + ow) * C;
    const Window w = window(s, oh, ow);
    for (int64_t c = 0; c < C; ++c) yo[c] = 0.0f;
    if (w.h0 >= w.h1 || w.w0 >= w.w1) continue;
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
      for (int64_t iw = w.w0; iw < w.w1; ++iw) {
        const float* xp = xi + (ih * s.W + iw) * C;
        for (int64_t c = 0; c < C; ++c) yo[c] += xp[c];
      }
    const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
    for (int64_t c = 0; c < C; ++c) yo[c] *= inv;
  }
}

}  // namespace

void max_pool2d_forward(const float* x, float* y, int32_t* argmax, const Pool2DShape& s) {
  const int64_t rows = s.N * s.OH;
  if (rows <= 0 || s.OW <= 0 || s.C <= 0) return;
  const bool par = threaded(double(rows) * s.OW * s.C * s.KH * s.KW, rows);
#pragma omp parallel for schedule(static) if (par) num_threads(get_num_threads())
  for (int64_t r = 0; r < rows; ++r) max_row(x, y, argmax, s, r / s.OH, r % s.OH);
}

void max_pool2d_backward(const float* dy, const int32_t* argmax, float* dx, const Pool2DShape& s) {
  const int64_t img = s.H * s.W * s.C, out = s.OH * s.OW * s.C;
  if (s.N <= 0 || img <= 0) return;
  const bool par = threaded(double(s.N) * (img + out), s.N);
#pragma omp parallel for schedule(static) if (par) num_threads(get_num_threads())
  for (int64_t n = 0; n < s.N; ++n) {
    float* dxi = dx + n * img;
    std::memset(dxi, 0, static_cast<size_t>(img) * sizeof(float));
    const float* dyi = dy + n * out;
    const int32_t* ai = argmax + n * out;
    for (int64_t k = 0; k < out; ++k) {
      const int64_t a = ai[k];
      if (a >= 0 && a < img) dxi[a] += dyi[k];
    }
  }
}

void avg_pool2d_forward(const float* x, float* y, const Pool2DShape& s) {
  const int64_t rows = s.N * s.OH;
  if (rows <= 0 || s.OW <= 0 || s.C <= 0) return;
  const bool par = threaded(double(rows) * s.OW * s.C * s.KH * s.KW, rows);
#pragma omp parallel for schedule(static) if (par) num_threads(get_num_threads())
  for (int64_t r = 0; r < rows; ++r) avg_row(x, y, s, r / s.OH, r % s.OH);
}

void avg_pool2d_backward(const float* dy, float* dx, const Pool2DShape& s) {
  const int64_t C = s.C, img = s.H * s.W * C, out = s.OH * s.OW * C;
  if (s.N <= 0 || img <= 0) return;
  const bool par = threaded(double(s.N) * (img + double(out) * s.KH * s.KW), s.N);
#pragma omp parallel for schedule(static) if (par) num_threads(get_num_threads())
  for (int64_t n = 0; n < s.N; ++n) {
    float* dxi = dx + n * img;
    std::memset(dxi, 0, static_cast<size_t>(img) * sizeof(float));
    const float* dyi = dy + n * out;
    for (int64_t oh = 0; oh < s.OH; ++oh)
      for (int64_t ow = 0; ow < s.OW; ++ow) {
        const Window w = window(s, oh, ow);
        if (w.h0 >= w.h1 || w.w0 >= w.w1) continue;
        const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
        const float* g = dyi + (oh * s.OW + ow) * C;
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = w.w0; iw < w.w1; ++iw) {
            float* d = dxi + (ih * s.W + iw) * C;
            for (int64_t c = 0; c < C; ++c) d[c] += g[c] * inv;
          }
      }
  }
}

}  // namespace nnforge
