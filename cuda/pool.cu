// 2-D max and average pooling on NHWC tensors, with the semantics of cpp/include/nnforge/pool.h:
// explicit top/left padding, bottom/right implied by OH, OW; padding never wins a max and is
// never counted by the average. Forward: one thread per output element (channels fastest, so
// reads and writes are coalesced). Both backward kernels are gathers, one thread per dx element
// summing over the windows that contain it in ascending (oh, ow) order: no atomics, no zero-fill,
// and the result is bitwise reproducible. For max pooling that order is the CPU's scatter order
// (cpp/src/pool.cpp adds dy[k] for ascending k), so the sums even round the same way.
#include "common.cuh"

namespace nnforge {
namespace cuda {

namespace {

// The coordinates of flat index i of an NHWC tensor of spatial size (Hd, Wd) and C channels.
struct Nhwc {
  int64_t n, h, w, c;
};

__device__ __forceinline__ Nhwc unravel_nhwc(int64_t i, int64_t Hd, int64_t Wd, int64_t C) {
  Nhwc p;
  p.c = i % C; i /= C;
  p.w = i % Wd; i /= Wd;
  p.h = i % Hd;
  p.n = i / Hd;
  return p;
}

// Calls fn(j) for every element of window (oh, ow) inside the image, channel c, in ascending
// (kh, kw) order; j = (ih*W + iw)*C + c is its index within the image.
template <class Fn>
__device__ __forceinline__ void for_window(const Pool2DShape& s, int64_t oh, int64_t ow,
                                           int64_t c, Fn fn) {
  const int64_t h0 = oh * s.SH - s.pad_top, w0 = ow * s.SW - s.pad_left;
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    const int64_t ih = h0 + kh;
    if (ih < 0 || ih >= s.H) continue;
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t iw = w0 + kw;
      if (iw < 0 || iw >= s.W) continue;
      fn((ih * s.W + iw) * s.C + c);
    }
  }
}

__global__ void max_fwd_kernel(const float* __restrict__ x, float* __restrict__ y,
                               int32_t* __restrict__ argmax, Pool2DShape s, int64_t total) {
  NNF_GRID_LOOP(i, total) {
    const Nhwc o = unravel_nhwc(i, s.OH, s.OW, s.C);
    const float* xn = x + o.n * s.H * s.W * s.C;
    float best = 0.f;
    int64_t idx = -1;  // stays -1 only for a window made entirely of padding (y = 0)
    for_window(s, o.h, o.w, o.c, [&](int64_t j) {
      const float v = xn[j];
      if (idx < 0 || v > best) {  // first maximum wins ties
        best = v;
        idx = j;
      }
    });
    y[i] = best;
    if (argmax != nullptr) argmax[i] = static_cast<int32_t>(idx);
  }
}

__device__ __forceinline__ int64_t window_count(const Pool2DShape& s, int64_t oh, int64_t ow) {
  const int64_t h0 = oh * s.SH - s.pad_top, w0 = ow * s.SW - s.pad_left;
  const int64_t hs = h0 < 0 ? 0 : h0, he = h0 + s.KH < s.H ? h0 + s.KH : s.H;
  const int64_t ws = w0 < 0 ? 0 : w0, we = w0 + s.KW < s.W ? w0 + s.KW : s.W;
  const int64_t ch = he - hs, cw = we - ws;
  return (ch > 0 && cw > 0) ? ch * cw : 0;
}

__global__ void avg_fwd_kernel(const float* __restrict__ x, float* __restrict__ y, Pool2DShape s,
                               int64_t total) {
  NNF_GRID_LOOP(i, total) {
    const Nhwc o = unravel_nhwc(i, s.OH, s.OW, s.C);
    const float* xn = x + o.n * s.H * s.W * s.C;
    float acc = 0.f;
    for_window(s, o.h, o.w, o.c, [&](int64_t j) { acc += xn[j]; });
    const int64_t cnt = window_count(s, o.h, o.w);
    y[i] = cnt > 0 ? acc / static_cast<float>(cnt) : 0.f;
  }
}

// floor(a / b) for b > 0 and any sign of a.
__device__ __forceinline__ int64_t floor_div(int64_t a, int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// The windows (oh in [lo_h, hi_h], ow in [lo_w, hi_w]) whose span contains input (ih, iw):
// oh*SH - pad_top <= ih <= oh*SH - pad_top + KH - 1, clamped to the output.
struct WindowRange {
  int64_t oh_lo, oh_hi, ow_lo, ow_hi;
};

__device__ __forceinline__ WindowRange windows_containing(const Pool2DShape& s, int64_t ih,
                                                          int64_t iw) {
  WindowRange r;
  r.oh_lo = floor_div(ih + s.pad_top - s.KH, s.SH) + 1;
  r.oh_hi = floor_div(ih + s.pad_top, s.SH);
  r.ow_lo = floor_div(iw + s.pad_left - s.KW, s.SW) + 1;
  r.ow_hi = floor_div(iw + s.pad_left, s.SW);
  if (r.oh_lo < 0) r.oh_lo = 0;
  if (r.ow_lo < 0) r.ow_lo = 0;
  if (r.oh_hi >= s.OH) r.oh_hi = s.OH - 1;
  if (r.ow_hi >= s.OW) r.ow_hi = s.OW - 1;
  return r;
}

// dx[n, ih, iw, c] = sum over windows (oh, ow) containing (ih, iw) of dy / count(oh, ow).
__global__ void avg_bwd_kernel(const float* __restrict__ dy, float* __restrict__ dx,
                               Pool2DShape s, int64_t total) {
  NNF_GRID_LOOP(i, total) {
    const Nhwc e = unravel_nhwc(i, s.H, s.W, s.C);
    const WindowRange r = windows_containing(s, e.h, e.w);
    float acc = 0.f;
    for (int64_t oh = r.oh_lo; oh <= r.oh_hi; ++oh)
      for (int64_t ow = r.ow_lo; ow <= r.ow_hi; ++ow) {
        const int64_t cnt = window_count(s, oh, ow);
        if (cnt > 0)
          acc += dy[((e.n * s.OH + oh) * s.OW + ow) * s.C + e.c] / static_cast<float>(cnt);
      }
    dx[i] = acc;
  }
}

// dx[n, ih, iw, c] = sum of dy over the windows containing (ih, iw) whose argmax names it.
// An argmax that names no element of its window (corrupt input) is simply never matched.
__global__ void max_bwd_kernel(const float* __restrict__ dy, const int32_t* __restrict__ argmax,
                               float* __restrict__ dx, Pool2DShape s, int64_t total) {
  NNF_GRID_LOOP(i, total) {
    const Nhwc e = unravel_nhwc(i, s.H, s.W, s.C);
    const int64_t self = (e.h * s.W + e.w) * s.C + e.c;  // this element's index within its image
    const WindowRange r = windows_containing(s, e.h, e.w);
    float acc = 0.f;
    for (int64_t oh = r.oh_lo; oh <= r.oh_hi; ++oh)
      for (int64_t ow = r.ow_lo; ow <= r.ow_hi; ++ow) {
        const int64_t o = ((e.n * s.OH + oh) * s.OW + ow) * s.C + e.c;
        if (argmax[o] == self) acc += dy[o];
      }
    dx[i] = acc;
  }
}

}  // namespace

cudaError_t max_pool2d_forward(const float* x, float* y, int32_t* argmax, const Pool2DShape& s,
                               cudaStream_t st) {
  const int64_t total = s.N * s.OH * s.OW * s.C;
  if (total == 0) return cudaSuccess;
  max_fwd_kernel<<<grid_for(total), kThreads, 0, st>>>(x, y, argmax, s, total);
  return last_error();
}

cudaError_t max_pool2d_backward(const float* dy, const int32_t* argmax, float* dx,
                                const Pool2DShape& s, cudaStream_t st) {
  const int64_t total = s.N * s.H * s.W * s.C;
  if (total == 0) return cudaSuccess;
  max_bwd_kernel<<<grid_for(total), kThreads, 0, st>>>(dy, argmax, dx, s, total);
  return last_error();
}

cudaError_t avg_pool2d_forward(const float* x, float* y, const Pool2DShape& s, cudaStream_t st) {
  const int64_t total = s.N * s.OH * s.OW * s.C;
  if (total == 0) return cudaSuccess;
  avg_fwd_kernel<<<grid_for(total), kThreads, 0, st>>>(x, y, s, total);
  return last_error();
}

cudaError_t avg_pool2d_backward(const float* dy, float* dx, const Pool2DShape& s,
                                cudaStream_t st) {
  const int64_t total = s.N * s.H * s.W * s.C;
  if (total == 0) return cudaSuccess;
  avg_bwd_kernel<<<grid_for(total), kThreads, 0, st>>>(dy, dx, s, total);
  return last_error();
}

}  // namespace cuda
}  // namespace nnforge
