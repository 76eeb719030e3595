// 2-D max / average pooling on NHWC tensors (see pool.h).
//
// Forward: one task per output row (n, oh), threaded when the whole job is large; each output
// pixel walks only the real (non-padding) part of its window, vectorised over channels.
// Backward through the window geometry: one task per dx row (n, ih) (per output row for 2x2);
// each dx element is gathered once from the windows that hold it (in increasing oh, ow: the order
// a scatter would add them), so no zeroing pass, dx reaches memory once, and results do not
// depend on the thread count. max_pool2d_backward without geometry still zeroes and scatters,
// image by image; with an int32 argmax and disjoint windows it writes each image in one pass.
// Max pooling's compact argmax keeps the winner's index in its window as one byte
// (max_pool2d_forward_local): the forward writes and the backward reads a quarter of an int32
// argmax's bytes.
// Row kernels per instruction set (pool_kernels.h), chosen at run time from cpu_isa(): the 2x2
// stride-2 unpadded case in pool_avx512.cpp / pool_avx2.cpp, every other geometry (uint8 argmax
// or none, and average pooling) in pool_simd.h instantiated there; the loops below are the
// portable fallback (and what the int32-argmax paths always run), bitwise equal to them.
#include "nnforge/pool.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "elementwise.h"
#include "nnforge/common.h"
#include "pool_kernels.h"
#include "pool_simd.h"
#include "thread_pool.h"

namespace nnforge {

// Channels per block of the int32 window indices kept while comparing: a uint8 select next to
// float compares does not vectorise, an int32 one does; the block is narrowed to bytes after.
constexpr int64_t kIdxBlock = 64;

namespace detail {
namespace {

// Plain-loop 2x2 row kernels: the portable fallback (compiled, like the other loops here, for
// AVX-512, AVX2 and baseline x86-64 by NNF_CLONES) and the reference the intrinsics versions
// match bitwise.
template <bool kArg>
inline __attribute__((always_inline)) void gen_max_fwd_impl(const float* x0, const float* x1,
                                                            float* y, uint8_t* arg, int64_t OW,
                                                            int64_t C) {
  float kb[kIdxBlock];  // window index as float: a float select vectorises with the compare
  for (int64_t ow = 0; ow < OW; ++ow) {
    for (int64_t c0 = 0; c0 < C; c0 += kIdxBlock) {
      const int64_t cn = std::min(kIdxBlock, C - c0);
      const float* __restrict__ a = x0 + 2 * ow * C + c0;
      const float* __restrict__ b = x1 + 2 * ow * C + c0;
      float* __restrict__ yo = y + ow * C + c0;
      for (int64_t c = 0; c < cn; ++c) {  // branch-free selects
        float m = a[c], k = 0.0f;
        float v = a[C + c];
        bool gt = v > m;
        m = gt ? v : m;
        k = gt ? 1.0f : k;
        v = b[c];
        gt = v > m;
        m = gt ? v : m;
        k = gt ? 2.0f : k;
        v = b[C + c];
        gt = v > m;
        m = gt ? v : m;
        k = gt ? 3.0f : k;
        yo[c] = m;
        kb[c] = k;
      }
      if (kArg) {
        uint8_t* __restrict__ ao = arg + ow * C + c0;
        for (int64_t c = 0; c < cn; ++c) ao[c] = static_cast<uint8_t>(static_cast<int32_t>(kb[c]));
      }
    }
  }
}

NNF_CLONES void gen_max_fwd(const float* x0, const float* x1, float* y, uint8_t* arg, int64_t OW,
                            int64_t C) {
  if (arg)
    gen_max_fwd_impl<true>(x0, x1, y, arg, OW, C);
  else
    gen_max_fwd_impl<false>(x0, x1, y, nullptr, OW, C);
}

// gate (nullable): a window whose gate (relu's pooled output) is not > 0 takes index -1, which
// names no element: its dy reaches none.
NNF_CLONES void gen_max_bwd(const float* dy, const uint8_t* arg, const float* gate, float* dx0,
                            float* dx1, int64_t OW, int64_t C) {
  int32_t kb[kIdxBlock];  // window indices widened per block: int32 selects vectorise, bytes not
  for (int64_t ow = 0; ow < OW; ++ow) {
    for (int64_t c0 = 0; c0 < C; c0 += kIdxBlock) {
      const int64_t cn = std::min(kIdxBlock, C - c0);
      const float* __restrict__ g = dy + ow * C + c0;
      const uint8_t* __restrict__ ai = arg + ow * C + c0;
      float* __restrict__ a = dx0 + 2 * ow * C + c0;
      float* __restrict__ b = dx1 + 2 * ow * C + c0;
      if (gate) {
        const float* __restrict__ gt = gate + ow * C + c0;
        for (int64_t c = 0; c < cn; ++c) kb[c] = gt[c] > 0.0f ? ai[c] : -1;
      } else {
        for (int64_t c = 0; c < cn; ++c) kb[c] = ai[c];
      }
      for (int64_t c = 0; c < cn; ++c) {
        a[c] = kb[c] == 0 ? g[c] : 0.0f;
        a[C + c] = kb[c] == 1 ? g[c] : 0.0f;
        b[c] = kb[c] == 2 ? g[c] : 0.0f;
        b[C + c] = kb[c] == 3 ? g[c] : 0.0f;
      }
    }
  }
}

NNF_CLONES void gen_avg_fwd(const float* x0, const float* x1, float* y, int64_t OW, int64_t C) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    for (int64_t c = 0; c < C; ++c) {
      float t = 0.0f + a[c];
      t += a[C + c];
      t += b[c];
      t += b[C + c];
      y[ow * C + c] = t * 0.25f;
    }
  }
}

NNF_CLONES void gen_avg_bwd(const float* dy, float* dx0, float* dx1, int64_t OW, int64_t C) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    for (int64_t c = 0; c < C; ++c) {
      const float v = 0.0f + g[c] * 0.25f;
      a[c] = v;
      a[C + c] = v;
      b[c] = v;
      b[C + c] = v;
    }
  }
}

}  // namespace

}  // namespace detail

namespace {

const detail::Pool2x2Kernels& fast2x2() {
  static const detail::Pool2x2Kernels* k = [] {
    const char* isa = cpu_isa();
    if (std::strcmp(isa, "avx512") == 0) return &detail::pool2x2_avx512();
    if (std::strcmp(isa, "avx2") == 0) return &detail::pool2x2_avx2();
    return &detail::pool2x2_generic();
  }();
  return *k;
}

// 2x2 windows at stride 2 with no padding, every window whole (OH <= H/2, OW <= W/2).
inline bool is_2x2(const Pool2DShape& s) {
  return s.KH == 2 && s.KW == 2 && s.SH == 2 && s.SW == 2 && s.pad_top == 0 &&
         s.pad_left == 0 && 2 * s.OH <= s.H && 2 * s.OW <= s.W;
}

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

// Threaded loops hand out their tasks (rows or images) kTaskChunk at a time to whichever thread
// asks next (thread_pool.h): on cores shared with other programs, a thread that runs takes the
// tasks of one the system has descheduled, and never waits for it to arrive. Each task's
// arithmetic is its own, so results do not depend on which thread runs it.
constexpr int64_t kTaskChunk = 4;

// f(t) for the tasks t in [0, tasks): on the pool's threads when par, else in order here.
template <class F>
void for_tasks(int64_t tasks, bool par, F&& f) {
  if (!par) {
    for (int64_t t = 0; t < tasks; ++t) f(t);
    return;
  }
  detail::parallel_chunks((tasks + kTaskChunk - 1) / kTaskChunk, get_num_threads(),
                          [&](int64_t c) {
                            const int64_t t1 = std::min(tasks, (c + 1) * kTaskChunk);
                            for (int64_t t = c * kTaskChunk; t < t1; ++t) f(t);
                          });
}

// work is a double: KH*KW may be large and the product is only a size estimate.
inline bool threaded(double work, int64_t tasks) {
  return tasks > 1 && work >= static_cast<double>(kParallelWork) && get_num_threads() > 1;
}

// What the max forward records of each winner: nothing, its index in the image
// ((ih*W + iw)*C + c, int32) or its index in the window ((ih - hs)*KW + (iw - ws), uint8).
enum class ArgKind { kNone, kImage, kWindow };

template <ArgKind K>
using ArgT = std::conditional_t<K == ArgKind::kWindow, uint8_t, int32_t>;

// One output row (n, oh) of max pooling over any geometry: the first real element of each window
// initialises the max (padding never wins, the argmax is always a real element), then the others
// in row-major order replace it when strictly greater (branch-free selects, vectorised over
// channels; inlined into the ISA clones below).
template <ArgKind K>
inline __attribute__((always_inline)) void max_row_impl(const float* x, float* y, ArgT<K>* argmax,
                                                        const Pool2DShape& s, int64_t n,
                                                        int64_t oh) {
  constexpr bool kArg = K != ArgKind::kNone;
  const int64_t C = s.C;
  const float* xi = x + n * s.H * s.W * C;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    float* __restrict__ yo = y + ((n * s.OH + oh) * s.OW + ow) * C;
    ArgT<K>* __restrict__ ao = kArg ? argmax + ((n * s.OH + oh) * s.OW + ow) * C : nullptr;
    const Window w = window(s, oh, ow);
    if (w.h0 >= w.h1 || w.w0 >= w.w1) {  // no real element (the bindings refuse such geometry)
      for (int64_t c = 0; c < C; ++c) yo[c] = 0.0f;
      if (kArg)
        for (int64_t c = 0; c < C; ++c) ao[c] = static_cast<ArgT<K>>(-1);
      continue;
    }
    const int64_t hs = oh * s.SH - s.pad_top, ws = ow * s.SW - s.pad_left;
    const float* __restrict__ xf = xi + (w.h0 * s.W + w.w0) * C;
    if (K == ArgKind::kWindow) {
      // int32 indices per block of channels (an int32 select vectorises with the float compare,
      // a byte one does not), narrowed to the uint8 argmax once per window.
      const int32_t k0 = static_cast<int32_t>((w.h0 - hs) * s.KW + (w.w0 - ws));
      int32_t kb[kIdxBlock];
      for (int64_t c0 = 0; c0 < C; c0 += kIdxBlock) {
        const int64_t cn = std::min(kIdxBlock, C - c0);
        float* __restrict__ yb = yo + c0;
        for (int64_t c = 0; c < cn; ++c) {
          yb[c] = xf[c0 + c];
          kb[c] = k0;
        }
        for (int64_t ih = w.h0; ih < w.h1; ++ih)
          for (int64_t iw = (ih == w.h0 ? w.w0 + 1 : w.w0); iw < w.w1; ++iw) {
            const float* __restrict__ xp = xi + (ih * s.W + iw) * C + c0;
            const int32_t k = static_cast<int32_t>((ih - hs) * s.KW + (iw - ws));
            for (int64_t c = 0; c < cn; ++c) {
              const bool gt = xp[c] > yb[c];
              yb[c] = gt ? xp[c] : yb[c];
              kb[c] = gt ? k : kb[c];
            }
          }
        for (int64_t c = 0; c < cn; ++c) ao[c0 + c] = static_cast<ArgT<K>>(kb[c]);
      }
      continue;
    }
    for (int64_t c = 0; c < C; ++c) yo[c] = xf[c];
    if (K == ArgKind::kImage) {
      const int32_t first = static_cast<int32_t>((w.h0 * s.W + w.w0) * C);
      for (int64_t c = 0; c < C; ++c) ao[c] = static_cast<ArgT<K>>(first + static_cast<int32_t>(c));
    }
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
      for (int64_t iw = (ih == w.h0 ? w.w0 + 1 : w.w0); iw < w.w1; ++iw) {
        const float* __restrict__ xp = xi + (ih * s.W + iw) * C;
        if (K == ArgKind::kImage) {
          const int32_t base = static_cast<int32_t>((ih * s.W + iw) * C);
          for (int64_t c = 0; c < C; ++c) {
            const bool gt = xp[c] > yo[c];
            yo[c] = gt ? xp[c] : yo[c];
            ao[c] = gt ? static_cast<ArgT<K>>(base + static_cast<int32_t>(c)) : ao[c];
          }
        } else {
          for (int64_t c = 0; c < C; ++c) yo[c] = xp[c] > yo[c] ? xp[c] : yo[c];
        }
      }
  }
}

NNF_CLONES void max_row_none(const float* x, float* y, const Pool2DShape& s, int64_t n,
                             int64_t oh) {
  max_row_impl<ArgKind::kNone>(x, y, nullptr, s, n, oh);
}

NNF_CLONES void max_row_image(const float* x, float* y, int32_t* argmax, const Pool2DShape& s,
                              int64_t n, int64_t oh) {
  max_row_impl<ArgKind::kImage>(x, y, argmax, s, n, oh);
}

NNF_CLONES void max_row_window(const float* x, float* y, uint8_t* argmax, const Pool2DShape& s,
                               int64_t n, int64_t oh) {
  max_row_impl<ArgKind::kWindow>(x, y, argmax, s, n, oh);
}

// The 2x2, stride-2, unpadded case with an image-index argmax: the four candidates of each
// channel compared in registers, in the generic path's order (row-major within the window,
// strict >), so results and argmax ties are identical to it.
NNF_CLONES void max_row_2x2_image(const float* x, float* y, int32_t* argmax,
                                  const Pool2DShape& s, int64_t n, int64_t oh) {
  const int64_t C = s.C, WC = s.W * C;
  const int64_t row0 = (2 * oh) * WC;  // offset of input row 2*oh inside image n
  const float* __restrict__ xi = x + n * s.H * WC;
  float* __restrict__ yrow = y + (n * s.OH + oh) * s.OW * C;
  int32_t* __restrict__ arow = argmax + (n * s.OH + oh) * s.OW * C;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    const int64_t b00 = row0 + 2 * ow * C, b01 = b00 + C, b10 = b00 + WC, b11 = b10 + C;
    const float* __restrict__ p00 = xi + b00;
    const float* __restrict__ p01 = xi + b01;
    const float* __restrict__ p10 = xi + b10;
    const float* __restrict__ p11 = xi + b11;
    float* __restrict__ yo = yrow + ow * C;
    int32_t* __restrict__ ao = arow + ow * C;
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
      ao[c] = a;
    }
  }
}

using detail::pool_simd::Cover;
using detail::pool_simd::covering;

// One dx row (n, ih) of the max backward, gathered: each element adds, over the windows that hold
// it in increasing (oh, ow), the window's dy where the argmax names it (+0 elsewhere, which never
// changes a sum that starts at +0) -- the same additions in the same order as the scatter.
template <class A>
inline __attribute__((always_inline)) void max_back_row_impl(const float* dy, const A* argmax,
                                                             const float* gate, float* dx,
                                                             const Pool2DShape& s, int64_t n,
                                                             int64_t ih) {
  const int64_t C = s.C;
  float* __restrict__ drow = dx + (n * s.H + ih) * s.W * C;
  int64_t oh0, oh1;
  covering(ih, s.pad_top, s.KH, s.SH, s.OH, oh0, oh1);
  Cover cw(s.pad_left, s.KW, s.SW, s.OW);
  for (int64_t iw = 0; iw < s.W; ++iw) {
    float* __restrict__ d = drow + iw * C;
    for (int64_t c = 0; c < C; ++c) d[c] = 0.0f;
    cw.next(iw);
    const int64_t ow0 = cw.lo, ow1 = cw.hi;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        const int64_t o = ((n * s.OH + oh) * s.OW + ow) * C;
        const float* __restrict__ g = dy + o;
        const A* __restrict__ a = argmax + o;
        if constexpr (std::is_same_v<A, uint8_t>) {
          const int32_t k = static_cast<int32_t>((ih + s.pad_top - oh * s.SH) * s.KW +
                                                 (iw + s.pad_left - ow * s.SW));
          if (gate) {  // relu's gradient: dy only where the pooled output is > 0
            const float* __restrict__ gt = gate + o;
            for (int64_t c = 0; c < C; ++c)
              d[c] += static_cast<int32_t>(a[c]) == k && gt[c] > 0.0f ? g[c] : 0.0f;
          } else {
            for (int64_t c = 0; c < C; ++c)
              d[c] += static_cast<int32_t>(a[c]) == k ? g[c] : 0.0f;
          }
        } else {
          const int32_t base = static_cast<int32_t>((ih * s.W + iw) * C);
          for (int64_t c = 0; c < C; ++c)
            d[c] += a[c] == base + static_cast<int32_t>(c) ? g[c] : 0.0f;
        }
      }
  }
}

NNF_CLONES void max_back_row_image(const float* dy, const int32_t* argmax, float* dx,
                                   const Pool2DShape& s, int64_t n, int64_t ih) {
  max_back_row_impl(dy, argmax, nullptr, dx, s, n, ih);
}

NNF_CLONES void max_back_row_window(const float* dy, const uint8_t* argmax, const float* gate,
                                    float* dx, const Pool2DShape& s, int64_t n, int64_t ih) {
  max_back_row_impl(dy, argmax, gate, dx, s, n, ih);
}

// The int32 backward for disjoint windows (stride == pool, no padding), one image: every dx
// element lies in at most one window, so each is written once -- dy where argmax points at it,
// else 0 -- in one sequential pass (cheaper than the per-pixel window search of the gather).
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

NNF_CLONES void avg_row(const float* x, float* y, const Pool2DShape& s, int64_t n, int64_t oh) {
  const int64_t C = s.C;
  const float* xi = x + n * s.H * s.W * C;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    float* __restrict__ yo = y + ((n * s.OH + oh) * s.OW + ow) * C;
    const Window w = window(s, oh, ow);
    for (int64_t c = 0; c < C; ++c) yo[c] = 0.0f;
    if (w.h0 >= w.h1 || w.w0 >= w.w1) continue;
    for (int64_t ih = w.h0; ih < w.h1; ++ih)
      for (int64_t iw = w.w0; iw < w.w1; ++iw) {
        const float* __restrict__ xp = xi + (ih * s.W + iw) * C;
        for (int64_t c = 0; c < C; ++c) yo[c] += xp[c];
      }
    const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
    for (int64_t c = 0; c < C; ++c) yo[c] *= inv;
  }
}

// One dx row (n, ih) of the average backward, gathered in increasing (oh, ow).
NNF_CLONES void avg_back_row(const float* dy, float* dx, const Pool2DShape& s, int64_t n,
                             int64_t ih) {
  const int64_t C = s.C;
  float* __restrict__ drow = dx + (n * s.H + ih) * s.W * C;
  int64_t oh0, oh1;
  covering(ih, s.pad_top, s.KH, s.SH, s.OH, oh0, oh1);
  Cover cw(s.pad_left, s.KW, s.SW, s.OW);
  for (int64_t iw = 0; iw < s.W; ++iw) {
    float* __restrict__ d = drow + iw * C;
    for (int64_t c = 0; c < C; ++c) d[c] = 0.0f;
    cw.next(iw);
    const int64_t ow0 = cw.lo, ow1 = cw.hi;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = ow0; ow <= ow1; ++ow) {
        const Window w = window(s, oh, ow);
        const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
        const float* __restrict__ g = dy + ((n * s.OH + oh) * s.OW + ow) * C;
        for (int64_t c = 0; c < C; ++c) d[c] += g[c] * inv;
      }
  }
}

// A short run of zeros (a column or row no window covers) without a libc call per row.
NNF_CLONES void zero_span(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = 0.0f;
}

// The 2x2 backward for output row (n, oh): dx rows 2*oh and 2*oh + 1 from the row kernel, zeros
// in the columns no window covers; the task of the last output row also zeroes the input rows
// below the last window (odd H).
template <class Fn>
inline void back_2x2_row(float* dx, const Pool2DShape& s, int64_t n, int64_t oh, Fn row) {
  const int64_t WC = s.W * s.C, covered = 2 * s.OW * s.C;
  float* d0 = dx + (n * s.H + 2 * oh) * WC;
  float* d1 = d0 + WC;
  row(d0, d1);
  if (covered < WC) {
    zero_span(d0 + covered, WC - covered);
    zero_span(d1 + covered, WC - covered);
  }
  if (oh == s.OH - 1 && 2 * s.OH < s.H)
    zero_span(d1 + WC, (s.H - 2 * s.OH) * WC);
}

void gen_max_fwd_any(const float* x, float* y, uint8_t* argmax, const Pool2DShape& s, int64_t n,
                     int64_t oh) {
  if (argmax)
    max_row_window(x, y, argmax, s, n, oh);
  else
    max_row_none(x, y, s, n, oh);
}

}  // namespace

namespace detail {
const Pool2x2Kernels& pool2x2_generic() {
  static const Pool2x2Kernels k{"generic",       gen_max_fwd,         gen_max_bwd,
                                gen_avg_fwd,     gen_avg_bwd,         gen_max_fwd_any,
                                max_back_row_window, avg_row,         avg_back_row};
  return k;
}
}  // namespace detail

void max_pool2d_forward(const float* x, float* y, int32_t* argmax, const Pool2DShape& s) {
  if (!argmax) return max_pool2d_forward_local(x, y, nullptr, s);
  const int64_t rows = s.N * s.OH;
  if (rows <= 0 || s.OW <= 0 || s.C <= 0) return;
  const bool par = threaded(double(rows) * s.OW * s.C * s.KH * s.KW, rows);
  const bool two = is_2x2(s);
  for_tasks(rows, par, [&](int64_t r) {
    const int64_t n = r / s.OH, oh = r % s.OH;
    if (two)
      max_row_2x2_image(x, y, argmax, s, n, oh);
    else
      max_row_image(x, y, argmax, s, n, oh);
  });
}

void max_pool2d_forward_local(const float* x, float* y, uint8_t* argmax, const Pool2DShape& s) {
  const int64_t rows = s.N * s.OH;
  if (rows <= 0 || s.OW <= 0 || s.C <= 0) return;
  const bool par = threaded(double(rows) * s.OW * s.C * s.KH * s.KW, rows);
  if (is_2x2(s)) {
    const auto fwd = fast2x2().max_fwd;
    const int64_t WC = s.W * s.C, OWC = s.OW * s.C;
    for_tasks(rows, par, [&](int64_t r) {
      const int64_t n = r / s.OH, oh = r % s.OH;
      const float* x0 = x + (n * s.H + 2 * oh) * WC;
      fwd(x0, x0 + WC, y + r * OWC, argmax ? argmax + r * OWC : nullptr, s.OW, s.C);
    });
    return;
  }
  const auto fwd = fast2x2().max_fwd_any;
  for_tasks(rows, par, [&](int64_t r) { fwd(x, y, argmax, s, r / s.OH, r % s.OH); });
}

void max_pool2d_backward(const float* dy, const int32_t* argmax, float* dx, const Pool2DShape& s) {
  const int64_t img = s.H * s.W * s.C, out = s.OH * s.OW * s.C;
  if (s.N <= 0 || img <= 0) return;
  const bool par = threaded(double(s.N) * (img + out), s.N);
  for_tasks(s.N, par, [&](int64_t n) {
    float* dxi = dx + n * img;
    const float* dyi = dy + n * out;
    const int32_t* ai = argmax + n * out;
    std::memset(dxi, 0, static_cast<size_t>(img) * sizeof(float));
    for (int64_t k = 0; k < out; ++k) {
      const int64_t a = ai[k];
      if (a >= 0 && a < img) dxi[a] += dyi[k];
    }
  });
}

// Windows per dx element, for the work estimate.
static inline double windows_per_element(const Pool2DShape& s) {
  return double((s.KH + s.SH - 1) / s.SH) * double((s.KW + s.SW - 1) / s.SW);
}

void max_pool2d_backward_windows(const float* dy, const int32_t* argmax, float* dx,
                                 const Pool2DShape& s) {
  const int64_t rows = s.N * s.H;
  if (rows <= 0 || s.W <= 0 || s.C <= 0) return;
  if (s.SH == s.KH && s.SW == s.KW && s.pad_top == 0 && s.pad_left == 0) {
    const int64_t img = s.H * s.W * s.C, out = s.OH * s.OW * s.C;
    const bool par = threaded(double(s.N) * (img + out), s.N);
    for_tasks(s.N, par, [&](int64_t n) {
      max_back_disjoint(dy + n * out, argmax + n * out, dx + n * img, s);
    });
    return;
  }
  const bool par = threaded(double(rows) * s.W * s.C * (1.0 + windows_per_element(s)), rows);
  for_tasks(rows, par, [&](int64_t r) { max_back_row_image(dy, argmax, dx, s, r / s.H, r % s.H); });
}

namespace {
void max_backward_u8(const float* dy, const uint8_t* argmax, const float* gate, float* dx,
                     const Pool2DShape& s) {
  const int64_t img = s.H * s.W * s.C;
  if (s.N <= 0 || img <= 0) return;
  if (is_2x2(s) && s.OH > 0 && s.OW > 0) {
    const int64_t rows = s.N * s.OH, OWC = s.OW * s.C;
    const bool par = threaded(double(s.N) * img, rows);
    const auto bwd = fast2x2().max_bwd;
    for_tasks(rows, par, [&](int64_t r) {
      back_2x2_row(dx, s, r / s.OH, r % s.OH, [&](float* d0, float* d1) {
        bwd(dy + r * OWC, argmax + r * OWC, gate ? gate + r * OWC : nullptr, d0, d1, s.OW, s.C);
      });
    });
    return;
  }
  const int64_t rows = s.N * s.H;
  const bool par = threaded(double(s.N) * img * (1.0 + windows_per_element(s)), rows);
  const auto bwd = fast2x2().max_bwd_any;
  for_tasks(rows, par, [&](int64_t r) { bwd(dy, argmax, gate, dx, s, r / s.H, r % s.H); });
}
}  // namespace

void max_pool2d_backward_windows(const float* dy, const uint8_t* argmax, float* dx,
                                 const Pool2DShape& s) {
  max_backward_u8(dy, argmax, nullptr, dx, s);
}

void max_pool2d_backward_windows_relu(const float* dy, const uint8_t* argmax,
                                      const float* relu_y, float* dx, const Pool2DShape& s) {
  max_backward_u8(dy, argmax, relu_y, dx, s);
}

void avg_pool2d_forward(const float* x, float* y, const Pool2DShape& s) {
  const int64_t rows = s.N * s.OH;
  if (rows <= 0 || s.OW <= 0 || s.C <= 0) return;
  const bool par = threaded(double(rows) * s.OW * s.C * s.KH * s.KW, rows);
  if (is_2x2(s)) {
    const auto fwd = fast2x2().avg_fwd;
    const int64_t WC = s.W * s.C, OWC = s.OW * s.C;
    for_tasks(rows, par, [&](int64_t r) {
      const float* x0 = x + (r / s.OH * s.H + 2 * (r % s.OH)) * WC;
      fwd(x0, x0 + WC, y + r * OWC, s.OW, s.C);
    });
    return;
  }
  const auto fwd = fast2x2().avg_fwd_any;
  for_tasks(rows, par, [&](int64_t r) { fwd(x, y, s, r / s.OH, r % s.OH); });
}

void avg_pool2d_backward(const float* dy, float* dx, const Pool2DShape& s) {
  const int64_t img = s.H * s.W * s.C;
  if (s.N <= 0 || img <= 0) return;
  if (is_2x2(s) && s.OH > 0 && s.OW > 0) {
    const int64_t rows = s.N * s.OH, OWC = s.OW * s.C;
    const bool par = threaded(double(s.N) * img, rows);
    const auto bwd = fast2x2().avg_bwd;
    for_tasks(rows, par, [&](int64_t r) {
      back_2x2_row(dx, s, r / s.OH, r % s.OH,
                   [&](float* d0, float* d1) { bwd(dy + r * OWC, d0, d1, s.OW, s.C); });
    });
    return;
  }
  const int64_t rows = s.N * s.H;
  const bool par = threaded(double(s.N) * img * (1.0 + windows_per_element(s)), rows);
  const auto bwd = fast2x2().avg_bwd_any;
  for_tasks(rows, par, [&](int64_t r) { bwd(dy, dx, s, r / s.H, r % s.H); });
}

}  // namespace nnforge
