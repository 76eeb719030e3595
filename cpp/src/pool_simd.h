// Private to the pooling files (pool_avx512.cpp, pool_avx2.cpp; pool.cpp uses its geometry
// helpers): pool_kernels.h's row kernels (2x2 stride 2 and any window geometry), written once
// over a vector-ops type V that each file defines for its ISA in its anonymous namespace (so
// every instantiation stays in the file compiled with that ISA's flags; kernels<V>(name) is the
// table of them). V provides:
//   reg, mask, idx       float vector, lane mask, VL window indices (bytes 0..255)
//   VL                   lanes
//   load(p, n) / store(p, n, v)        the first n <= VL lanes (plain access when n == VL; lanes
//                                      >= n read as 0 and are not written)
//   zero() set1(f) add(a, b) mul(a, b)
//   gt(a, b)             a > b lane-wise (ordered: false for NaN)
//   sel(m, a, b)         m ? a : b;   keep(m, v): m ? v : +0
//   iset(k)              all lanes k;  isel(m, k, i): m ? k : i
//   iload(p, n) / istore(p, n, i)      n bytes; lanes >= n of iload match no index
//   ieq(i, k)            i == k lane-wise
//   tail_t, tail(n)      the lanes [0, n < VL) prepared once (the mask) for the overloads
//                        load / store / iload / istore(p, tail_t, ...) of a row's last vector
// Every kernel does the scalar loops' arithmetic in the same order (pool.cpp), so results are
// bitwise the same as theirs on every ISA.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "nnforge/pool.h"
#include "pool_kernels.h"

namespace nnforge {
namespace detail {
namespace pool_simd {

struct Win {
  int64_t h0, h1, w0, w1, hs, ws;  // real rows [h0, h1), columns [w0, w1); window origin (hs, ws)
};

inline Win win(const Pool2DShape& s, int64_t oh, int64_t ow) {
  Win w;
  w.hs = oh * s.SH - s.pad_top;
  w.ws = ow * s.SW - s.pad_left;
  w.h0 = std::max<int64_t>(w.hs, 0);
  w.h1 = std::min<int64_t>(w.hs + s.KH, s.H);
  w.w0 = std::max<int64_t>(w.ws, 0);
  w.w1 = std::min<int64_t>(w.ws + s.KW, s.W);
  return w;
}

// Output rows (columns) whose windows hold input row (column) i: those o in [0, O) with
// o*S <= i + pad < o*S + K. Empty (lo > hi) where a stride larger than the window skips i.
inline void covering(int64_t i, int64_t pad, int64_t K, int64_t S, int64_t O, int64_t& lo,
                     int64_t& hi) {
  const int64_t t = i + pad;
  lo = t < K ? 0 : (t - K) / S + 1;
  hi = std::min(O - 1, t / S);
}

// The same for i = 0, 1, 2, ... in turn, without a division per step (both ends only grow).
struct Cover {
  int64_t pad, K, S, O;
  int64_t lo = 0, hi = -1;
  Cover(int64_t pad_, int64_t K_, int64_t S_, int64_t O_) : pad(pad_), K(K_), S(S_), O(O_) {}
  void next(int64_t i) {
    const int64_t t = i + pad;
    while (hi + 1 < O && (hi + 1) * S <= t) ++hi;
    while (lo < O && lo * S + K <= t) ++lo;
  }
};

// Max pooling of output row oh of one image xi (H, W, C) into yrow (OW, C) and, if kArg, the
// winners' window indices into arow. Every window holds a real element (checked by the binding).
template <class V, bool kArg>
void max_fwd_row(const float* xi, float* yrow, uint8_t* arow, const Pool2DShape& s, int64_t oh) {
  const int64_t C = s.C;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    const Win w = win(s, oh, ow);
    const int k0 = static_cast<int>((w.h0 - w.hs) * s.KW + (w.w0 - w.ws));
    for (int64_t c = 0; c < C; c += V::VL) {
      const int64_t n = std::min<int64_t>(V::VL, C - c);
      typename V::reg m = V::load(xi + (w.h0 * s.W + w.w0) * C + c, n);
      typename V::idx k = V::iset(k0);
      for (int64_t ih = w.h0; ih < w.h1; ++ih)
        for (int64_t iw = (ih == w.h0 ? w.w0 + 1 : w.w0); iw < w.w1; ++iw) {
          const typename V::reg v = V::load(xi + (ih * s.W + iw) * C + c, n);
          const typename V::mask g = V::gt(v, m);
          m = V::sel(g, v, m);
          if (kArg) k = V::isel(g, static_cast<int>((ih - w.hs) * s.KW + (iw - w.ws)), k);
        }
      V::store(yrow + ow * C + c, n, m);
      if (kArg) V::istore(arow + ow * C + c, n, k);
    }
  }
}

// Gathers dx row ih of one image (W, C): each element = 0 + the term of each window that holds
// it, in increasing (oh, ow); 0 where no window does. Windows outer, channel vectors inner, so
// the per-window arithmetic is paid once per pixel and window; the running sums stay in the dx
// pixel (L1), which reaches memory once. per_window(oh, ow, iw) returns term(c, n), the vector
// of channels [c, c + n).
template <class V, class PerWindow>
inline void gather_row(float* drow, const Pool2DShape& s, int64_t ih, PerWindow per_window) {
  const int64_t C = s.C;
  int64_t oh0, oh1;
  covering(ih, s.pad_top, s.KH, s.SH, s.OH, oh0, oh1);
  Cover cw(s.pad_left, s.KW, s.SW, s.OW);
  for (int64_t iw = 0; iw < s.W; ++iw) {
    cw.next(iw);
    float* d = drow + iw * C;
    bool first = true;
    for (int64_t oh = oh0; oh <= oh1; ++oh)
      for (int64_t ow = cw.lo; ow <= cw.hi; ++ow) {
        const auto term = per_window(oh, ow, iw);
        for (int64_t c = 0; c < C; c += V::VL) {
          const int64_t n = std::min<int64_t>(V::VL, C - c);
          const typename V::reg prev = first ? V::zero() : V::load(d + c, n);
          V::store(d + c, n, V::add(prev, term(c, n)));
        }
        first = false;
      }
    if (first)  // no window holds this pixel
      for (int64_t c = 0; c < C; c += V::VL)
        V::store(d + c, std::min<int64_t>(V::VL, C - c), V::zero());
  }
}

// dy's vector at p, or with a gate (relu's pooled output at the same place) dy where gate > 0.
template <class V, bool kGate, class N>
inline typename V::reg gated(const float* p, const float* gate, N n) {
  const typename V::reg v = V::load(p, n);
  return kGate ? V::keep(V::gt(V::load(gate, n), V::zero()), v) : v;
}

// Max pooling backward, dx row ih of one image: the dy of each window that holds the element and
// whose argmax names it (+0 from the others, which never changes a sum that starts at +0); with
// kGate, dy only where gi (the image's pooled relu output) is > 0.
template <class V, bool kGate>
void max_bwd_row(const float* dyi, const uint8_t* ai, const float* gi, float* drow,
                 const Pool2DShape& s, int64_t ih) {
  gather_row<V>(drow, s, ih, [&](int64_t oh, int64_t ow, int64_t iw) {
    const int64_t o = (oh * s.OW + ow) * s.C;
    const int k = static_cast<int>((ih + s.pad_top - oh * s.SH) * s.KW +
                                   (iw + s.pad_left - ow * s.SW));
    return [=](int64_t c, int64_t n) {
      return V::keep(V::ieq(V::iload(ai + o + c, n), k),
                     gated<V, kGate>(dyi + o + c, kGate ? gi + o + c : nullptr, n));
    };
  });
}

// Average pooling of output row oh: ((0 + x0) + x1 + ...) * (1 / real elements).
template <class V>
void avg_fwd_row(const float* xi, float* yrow, const Pool2DShape& s, int64_t oh) {
  const int64_t C = s.C;
  for (int64_t ow = 0; ow < s.OW; ++ow) {
    const Win w = win(s, oh, ow);
    const float inv = 1.0f / static_cast<float>((w.h1 - w.h0) * (w.w1 - w.w0));
    for (int64_t c = 0; c < C; c += V::VL) {
      const int64_t n = std::min<int64_t>(V::VL, C - c);
      typename V::reg acc = V::zero();
      for (int64_t ih = w.h0; ih < w.h1; ++ih)
        for (int64_t iw = w.w0; iw < w.w1; ++iw)
          acc = V::add(acc, V::load(xi + (ih * s.W + iw) * C + c, n));
      V::store(yrow + ow * C + c, n, V::mul(acc, V::set1(inv)));
    }
  }
}

// Average pooling backward, dx row ih: dy * (1 / real elements) of each window holding it.
template <class V>
void avg_bwd_row(const float* dyi, float* drow, const Pool2DShape& s, int64_t ih) {
  const int64_t full = s.KH * s.KW;
  const float inv_full = 1.0f / static_cast<float>(full);
  gather_row<V>(drow, s, ih, [&](int64_t oh, int64_t ow, int64_t) {
    const Win w = win(s, oh, ow);
    const int64_t count = (w.h1 - w.h0) * (w.w1 - w.w0);
    // a whole window (most of them) takes the precomputed 1 / (KH*KW): no division
    const typename V::reg inv = V::set1(count == full ? inv_full : 1.0f / static_cast<float>(count));
    const float* g = dyi + (oh * s.OW + ow) * s.C;
    return [=](int64_t c, int64_t n) { return V::mul(V::load(g + c, n), inv); };
  });
}

// ---- 2x2 windows, stride 2, no padding (pool_kernels.h's max_fwd .. avg_bwd) -------------------

// body(c, n) over the channels [0, C) a vector at a time: n is V::VL as a compile-time constant
// for the full vectors (V's plain loads and stores, no mask), then V::tail(C % VL), its mask
// made once, for the last one.
template <class V, class Body>
inline void over_channels(int64_t C, Body body) {
  int64_t c = 0;
  for (; c + V::VL <= C; c += V::VL) body(c, std::integral_constant<int64_t, V::VL>{});
  if (c < C) body(c, V::tail(C - c));
}

template <class V>
void max_fwd_2x2(const float* x0, const float* x1, float* y, uint8_t* arg, int64_t OW,
                 int64_t C) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    float* yo = y + ow * C;
    uint8_t* ao = arg ? arg + ow * C : nullptr;
    over_channels<V>(C, [&](int64_t c, auto n) {
      typename V::reg mx = V::load(a + c, n);
      typename V::reg v = V::load(a + C + c, n);
      const typename V::mask k1 = V::gt(v, mx);
      mx = V::sel(k1, v, mx);
      v = V::load(b + c, n);
      const typename V::mask k2 = V::gt(v, mx);
      mx = V::sel(k2, v, mx);
      v = V::load(b + C + c, n);
      const typename V::mask k3 = V::gt(v, mx);
      mx = V::sel(k3, v, mx);
      V::store(yo + c, n, mx);
      if (ao) V::istore(ao + c, n, V::isel(k3, 3, V::isel(k2, 2, V::isel(k1, 1, V::iset(0)))));
    });
  }
}

template <class V, bool kGate>
void max_bwd_2x2_impl(const float* dy, const uint8_t* arg, const float* gate, float* dx0,
                      float* dx1, int64_t OW, int64_t C) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    const float* gt = kGate ? gate + ow * C : nullptr;
    const uint8_t* ai = arg + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    over_channels<V>(C, [&](int64_t c, auto n) {
      const typename V::reg v = gated<V, kGate>(g + c, kGate ? gt + c : nullptr, n);
      const typename V::idx k = V::iload(ai + c, n);
      V::store(a + c, n, V::keep(V::ieq(k, 0), v));
      V::store(a + C + c, n, V::keep(V::ieq(k, 1), v));
      V::store(b + c, n, V::keep(V::ieq(k, 2), v));
      V::store(b + C + c, n, V::keep(V::ieq(k, 3), v));
    });
  }
}

template <class V>
void max_bwd_2x2(const float* dy, const uint8_t* arg, const float* gate, float* dx0, float* dx1,
                 int64_t OW, int64_t C) {
  if (gate)
    max_bwd_2x2_impl<V, true>(dy, arg, gate, dx0, dx1, OW, C);
  else
    max_bwd_2x2_impl<V, false>(dy, arg, nullptr, dx0, dx1, OW, C);
}

template <class V>
void avg_fwd_2x2(const float* x0, const float* x1, float* y, int64_t OW, int64_t C) {
  const typename V::reg quarter = V::set1(0.25f);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* a = x0 + 2 * ow * C;
    const float* b = x1 + 2 * ow * C;
    float* yo = y + ow * C;
    over_channels<V>(C, [&](int64_t c, auto n) {
      typename V::reg acc = V::add(V::zero(), V::load(a + c, n));
      acc = V::add(acc, V::load(a + C + c, n));
      acc = V::add(acc, V::load(b + c, n));
      acc = V::add(acc, V::load(b + C + c, n));
      V::store(yo + c, n, V::mul(acc, quarter));
    });
  }
}

template <class V>
void avg_bwd_2x2(const float* dy, float* dx0, float* dx1, int64_t OW, int64_t C) {
  const typename V::reg quarter = V::set1(0.25f);
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float* g = dy + ow * C;
    float* a = dx0 + 2 * ow * C;
    float* b = dx1 + 2 * ow * C;
    over_channels<V>(C, [&](int64_t c, auto n) {
      const typename V::reg v = V::add(V::zero(), V::mul(V::load(g + c, n), quarter));
      V::store(a + c, n, v);
      V::store(a + C + c, n, v);
      V::store(b + c, n, v);
      V::store(b + C + c, n, v);
    });
  }
}

// ---- any geometry, over whole arrays (pool_kernels.h's *_any) ----------------------------------

template <class V>
void max_fwd_any(const float* x, float* y, uint8_t* argmax, const Pool2DShape& s, int64_t n,
                 int64_t oh) {
  const float* xi = x + n * s.H * s.W * s.C;
  const int64_t o = (n * s.OH + oh) * s.OW * s.C;
  if (argmax)
    max_fwd_row<V, true>(xi, y + o, argmax + o, s, oh);
  else
    max_fwd_row<V, false>(xi, y + o, nullptr, s, oh);
}

template <class V>
void max_bwd_any(const float* dy, const uint8_t* argmax, const float* gate, float* dx,
                 const Pool2DShape& s, int64_t n, int64_t ih) {
  const int64_t o = n * s.OH * s.OW * s.C;
  float* drow = dx + (n * s.H + ih) * s.W * s.C;
  if (gate)
    max_bwd_row<V, true>(dy + o, argmax + o, gate + o, drow, s, ih);
  else
    max_bwd_row<V, false>(dy + o, argmax + o, nullptr, drow, s, ih);
}

template <class V>
void avg_fwd_any(const float* x, float* y, const Pool2DShape& s, int64_t n, int64_t oh) {
  avg_fwd_row<V>(x + n * s.H * s.W * s.C, y + (n * s.OH + oh) * s.OW * s.C, s, oh);
}

template <class V>
void avg_bwd_any(const float* dy, float* dx, const Pool2DShape& s, int64_t n, int64_t ih) {
  avg_bwd_row<V>(dy + n * s.OH * s.OW * s.C, dx + (n * s.H + ih) * s.W * s.C, s, ih);
}

// The table of V's kernels, for pool2x2_<isa>().
template <class V>
Pool2x2Kernels kernels(const char* name) {
  return Pool2x2Kernels{name,           max_fwd_2x2<V>, max_bwd_2x2<V>, avg_fwd_2x2<V>,
                        avg_bwd_2x2<V>, max_fwd_any<V>, max_bwd_any<V>, avg_fwd_any<V>,
                        avg_bwd_any<V>};
}

}  // namespace pool_simd
}  // namespace detail
}  // namespace nnforge
