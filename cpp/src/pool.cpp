// 2-D max / average pooling on NHWC tensors (see pool.h).
//
// Forward: one task per output row (n, oh), threaded when the whole job is large; each output
// pixel walks only the real (non-padding) part of its window, vectorised over channels.
// Backward: dx is zeroed and the gradient scattered image by image (one image per task), so each
// dx element receives its contributions in a fixed order whatever the thread count; for
// disjoint windows (stride == pool, no padding) each dx element is written once instead.
#include "nnforge/pool.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "elementwise.h"
#include "nnforge/common.h"

namespace nnforge {
namespace {

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
// never wins, as with a plain `>` test). Inlined into the cloned row functions below, so each
// clone (AVX-512, AVX2, default) vectorises them for its ISA with no call per window element.
inline __attribute__((always_inline)) void max_step_arg(const float* __restrict__ xp,
                                                        float* __restrict__ yo,
                                                        int32_t* __restrict__ ao, int32_t base,
                                                        int64_t C) {
  for (int64_t c = 0; c < C; ++c) {
    const float v = xp[c];
    const bool gt = v > yo[c];
    yo[c] = gt ? v : yo[c];
    ao[c] = gt ? base + static_cast<int32_t>(c) : ao[c];
  }
}

inline __attribute__((always_inline)) void max_step(const float* __restrict__ xp,
                                                    float* __restrict__ yo, int64_t C) {
  for (int64_t c = 0; c < C; ++c) yo[c] = xp[c] > yo[c] ? xp[c] : yo[c];
}

template <bool kArg>
inline __attribute__((always_inline)) void max_row_impl(const float* x, float* y,
                                                        int32_t* argmax, const Pool2DShape& s,
                                                        int64_t n, int64_t oh) {
  const int64_t C = s.C;
  const float* xi = x + n * s.H * s.W * C;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    float* __restrict__ yo = y + ((n * s.OH + oh) * s.OW + ow) * C;
    int32_t* __restrict__ ao = kArg ? argmax + ((n * s.OH + oh) * s.OW + ow) * C : nullptr;
    const Window w = window(s, oh, ow);
    if (w.h0 >= w.h1 || w.w0 >= w.w1) {  // no real element (the bindings refuse such geometry)
      for (int64_t c = 0; c < C; ++c) yo[c] = 0.0f;
      if (kArg)
        for (int64_t c = 0; c < C; ++c) ao[c] = -1;
      continue;
    }
    // First real element initialises the max, so padding never wins and argmax is always valid.
    const int64_t first = (w.h0 * s.W + w.w0) * C;
    const float* __restrict__ xf = xi + first;
    for (int64_t c = 0; c < C; ++c) yo[c] = xf[c];
    if (kArg)
      for (int64_t c = 0; c < C; ++c) ao[c] = static_cast<int32_t>(first + c);
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
      for (int64_t iw = (ih == w.h0 ? w.w0 + 1 : w.w0); iw < w.w1; ++iw) {
        const int64_t base = (ih * s.W + iw) * C;
        if (kArg)
          max_step_arg(xi + base, yo, ao, static_cast<int32_t>(base), C);
        else
          max_step(xi + base, yo, C);
      }
  }
}

// The common 2x2, stride-2, unpadded case: the four candidates of each channel compared in
// registers, in the generic path's order (row-major within the window, strict >), so results
// and argmax ties are identical to it.
template <bool kArg>
inline __attribute__((always_inline)) void max_row_2x2_impl(const float* x, float* y,
                                                            int32_t* argmax,
                                                            const Pool2DShape& s, int64_t n,
                                                            int64_t oh) {
  const int64_t C = s.C, WC = s.W * C;
  const int64_t row0 = (2 * oh) * WC;  // offset of input row 2*oh inside image n
  const float* __restrict__ xi = x + n * s.H * WC;
  float* __restrict__ yrow = y + (n * s.OH + oh) * s.OW * C;
  int32_t* __restrict__ arow = kArg ? argmax + (n * s.OH + oh) * s.OW * C : nullptr;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    const int64_t b00 = row0 + 2 * ow * C, b01 = b00 + C, b10 = b00 + WC, b11 = b10 + C;
    const float* __restrict__ p00 = xi + b00;
    const float* __restrict__ p01 = xi + b01;
    const float* __restrict__ p10 = xi + b10;
    const float* __restrict__ p11 = xi + b11;
    float* __restrict__ yo = yrow + ow * C;
    int32_t* __restrict__ ao = kArg ? arow + ow * C : nullptr;
    for (int64_t c = 0; c < C; ++c) {
      float m = p00[c];
      int32_t a = static_cast<int32_t>(b00 + c);
      float v = p01[c];
      bool gt = v > m;
      m = gt ? v : m;
      a = gt ? static_cast<int32_t>(b01 + c) : a;
      v = p10[c];
      gt = v > m;
      m = gt ? v : m;
      a = gt ? static_cast<int32_t>(b10 + c) : a;
      v = p11[c];
      gt = v > m;
      m = gt ? v : m;
      a = gt ? static_cast<int32_t>(b11 + c) : a;
      yo[c] = m;
      if (kArg) ao[c] = a;
    }
  }
}

NNF_CLONES void max_row_2x2_arg(const float* x, float* y, int32_t* argmax, const Pool2DShape& s,
                                int64_t n, int64_t oh) {
  max_row_2x2_impl<true>(x, y, argmax, s, n, oh);
}

NNF_CLONES void max_row_2x2_noarg(const float* x, float* y, const Pool2DShape& s, int64_t n,
                                  int64_t oh) {
  max_row_2x2_impl<false>(x, y, nullptr, s, n, oh);
}

NNF_CLONES void max_row_arg(const float* x, float* y, int32_t* argmax, const Pool2DShape& s,
                            int64_t n, int64_t oh) {
  max_row_impl<true>(x, y, argmax, s, n, oh);
}

NNF_CLONES void max_row_noarg(const float* x, float* y, const Pool2DShape& s, int64_t n,
                              int64_t oh) {
  max_row_impl<false>(x, y, nullptr, s, n, oh);
}

// Backward for disjoint windows (stride == pool, no padding): every dx element lies in at most
// one window, so each is written once -- dy where argmax points at it, else 0 -- instead of
// zeroing the image and scattering.
NNF_CLONES void max_back_disjoint(const float* __restrict__ dyi, const int32_t* __restrict__ ai,
                                  float* __restrict__ dxi, const Pool2DShape& s) {
  const int64_t C = s.C;
  const int64_t hc = std::min(s.H, s.OH * s.KH), wc = std::min(s.W, s.OW * s.KW);
  for (int64_t ih = 0; ih < s.H; ++ih) {
    float* __restrict__ drow = dxi + ih * s.W * C;
    if (ih >= hc) {
      for (int64_t i = 0; i < s.W * C; ++i) drow[i] = 0.0f;
      continue;
    }
    const int64_t oh = ih / s.KH;
    for (int64_t iw = 0; iw < wc; ++iw) {
      const int64_t o = (oh * s.OW + iw / s.KW) * C;
      const int32_t base = static_cast<int32_t>((ih * s.W + iw) * C);
      float* __restrict__ d = drow + iw * C;
      for (int64_t c = 0; c < C; ++c)
        d[c] = ai[o + c] == base + static_cast<int32_t>(c) ? dyi[o + c] : 0.0f;
    }
    for (int64_t i = wc * C; i < s.W * C; ++i) drow[i] = 0.0f;
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
  // 2x2 windows at stride 2 with no padding: every window is whole (OH <= H/2, OW <= W/2).
  const bool two = s.KH == 2 && s.KW == 2 && s.SH == 2 && s.SW == 2 && s.pad_top == 0 &&
                   s.pad_left == 0 && 2 * s.OH <= s.H && 2 * s.OW <= s.W;
#pragma omp parallel for schedule(static) if (par) num_threads(get_num_threads())
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = r / s.OH, oh = r % s.OH;
    if (two) {
      if (argmax)
        max_row_2x2_arg(x, y, argmax, s, n, oh);
      else
        max_row_2x2_noarg(x, y, s, n, oh);
    } else if (argmax) {
      max_row_arg(x, y, argmax, s, n, oh);
    } else {
      max_row_noarg(x, y, s, n, oh);
    }
  }
}

void max_pool2d_backward(const float* dy, const int32_t* argmax, float* dx, const Pool2DShape& s) {
  const int64_t img = s.H * s.W * s.C, out = s.OH * s.OW * s.C;
  if (s.N <= 0 || img <= 0) return;
  const bool par = threaded(double(s.N) * (img + out), s.N);
#pragma omp parallel for schedule(static) if (par) num_threads(get_num_threads())
  for (int64_t n = 0; n < s.N; ++n) {
    float* dxi = dx + n * img;
    const float* dyi = dy + n * out;
    const int32_t* ai = argmax + n * out;
    std::memset(dxi, 0, static_cast<size_t>(img) * sizeof(float));
    for (int64_t k = 0; k < out; ++k) {
      const int64_t a = ai[k];
      if (a >= 0 && a < img) dxi[a] += dyi[k];
    }
  }
}

void max_pool2d_backward_disjoint(const float* dy, const int32_t* argmax, float* dx,
                                  const Pool2DShape& s) {
  const int64_t img = s.H * s.W * s.C, out = s.OH * s.OW * s.C;
  if (s.N <= 0 || img <= 0) return;
  const bool par = threaded(double(s.N) * (img + out), s.N);
#pragma omp parallel for schedule(static) if (par) num_threads(get_num_threads())
  for (int64_t n = 0; n < s.N; ++n) max_back_disjoint(dy + n * out, argmax + n * out, dx + n * img, s);
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
