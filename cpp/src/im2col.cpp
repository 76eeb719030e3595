// im2col / col2im for NHWC images (see im2col.h).
//
// Both work on ranges of "global output rows" r = n*OH + oh, so the convolution kernels
// (conv2d.cpp) can cut the batch -- or a single large image -- into chunks of whole output rows
// with bounded scratch memory. cols row (r - r0)*OW + ow holds the (KH, KW, C) patch of output
// pixel (n, oh, ow).
//
// col2im is written as a gather over input rows (n, ih): every dx element is owned by exactly one
// task and receives its contributions in a fixed (kh, kw) order, so the result is bitwise the same
// for any thread count and no atomics are needed.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include <emmintrin.h>
#include <omp.h>

#include "im2col_rows.h"
#include "nnforge/common.h"
#include "nnforge/im2col.h"
#include "thread_pool.h"

namespace nnforge {
namespace {

constexpr int64_t kParallelWork = 1 << 16;

// Inside a kernel's own parallel region (a conv2d cache tile) the call stays on its thread.
inline bool threaded(int64_t work, int64_t tasks) {
  return tasks > 1 && work >= kParallelWork && get_num_threads() > 1 && !omp_in_parallel();
}

// Copies and fills of up to a few hundred floats (a window row of KW*C floats: 9 for a 3x3 RGB
// kernel, 96 for 32 channels): inline SSE moves, never past d + n or src + n, as the libc call
// costs more than the copy at these sizes. This file is compiled with
// -fno-tree-loop-distribute-patterns (CMakeLists.txt), or GCC would turn these loops back into
// a memcpy call per piece.
constexpr int64_t kInlineCopy = 256;  // floats; longer rows go to memcpy / memset

inline void copy_floats(float* __restrict__ d, const float* __restrict__ src, int64_t n) {
  if (n >= kInlineCopy) {
    std::memcpy(d, src, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, _mm_loadu_ps(src + i));
  if (i + 2 <= n) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(d + i),
                     _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i)));
    i += 2;
  }
  if (i < n) _mm_store_ss(d + i, _mm_load_ss(src + i));
}

inline void zero_floats(float* __restrict__ d, int64_t n) {
  if (n >= kInlineCopy) {
    std::memset(d, 0, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const __m128 z = _mm_setzero_ps();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, z);
  if (i + 2 <= n) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(d + i), _mm_setzero_si128());
    i += 2;
  }
  if (i < n) _mm_store_ss(d + i, z);
}

// Patches of output row (n, oh) into dst (OW rows of K floats), one kernel row kh at a time: the
// pixels whose whole window row lies inside the image copy KW*C contiguous floats each (with
// DW == 1) in a tight loop over ow; the edge pixels (padding) go tap by tap.
void im2col_one_row(const float* x, float* dst, const Conv2DShape& s, int64_t n, int64_t oh) {
  const int64_t C = s.C, KWC = s.KW * C, K = s.KH * KWC, rowlen = s.W * C;
  const int64_t SW = s.SW, DW = s.DW, OW = s.OW, pl = s.pad_left;
  const float* xi = x + n * s.H * rowlen;
  // Interior pixels: ow*SW - pl >= 0 and ow*SW - pl + (KW-1)*DW <= W - 1.
  const int64_t lo = std::min(OW, (pl + SW - 1) / SW);
  const int64_t last = s.W - 1 - (s.KW - 1) * DW + pl;
  const int64_t hi = std::max(lo, last < 0 ? int64_t(0) : std::min(OW, last / SW + 1));
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    float* dk = dst + kh * KWC;
    const int64_t ih = oh * s.SH - s.pad_top + kh * s.DH;
    if (ih < 0 || ih >= s.H) {
      for (int64_t ow = 0; ow < OW; ++ow) zero_floats(dk + ow * K, KWC);
      continue;
    }
    const float* xr = xi + ih * rowlen;
    auto taps = [&](int64_t ow) {  // tap by tap, zeros outside the image
      const int64_t iw0 = ow * SW - pl;
      for (int64_t kw = 0; kw < s.KW; ++kw) {
        const int64_t iw = iw0 + kw * DW;
        if (iw < 0 || iw >= s.W)
          zero_floats(dk + ow * K + kw * C, C);
        else
          copy_floats(dk + ow * K + kw * C, xr + iw * C, C);
      }
    };
    for (int64_t ow = 0; ow < lo; ++ow) taps(ow);
    if (DW == 1) {
      const float* src = xr + (lo * SW - pl) * C;
      for (int64_t ow = lo; ow < hi; ++ow) copy_floats(dk + ow * K, src + (ow - lo) * SW * C, KWC);
    } else {
      for (int64_t ow = lo; ow < hi; ++ow) taps(ow);
    }
    for (int64_t ow = hi; ow < OW; ++ow) taps(ow);
  }
}

// dx row (n, ih) += contributions of cols rows for output rows oh in [oa, ob) of image n.
// cols row for (n, oh, ow) is ((n*OH + oh) - r0)*OW + ow.
void col2im_one_row(const float* cols, float* dx, const Conv2DShape& s, int64_t n, int64_t ih,
                    int64_t oa, int64_t ob, int64_t r0) {
  const int64_t C = s.C, K = s.KH * s.KW * C;
  float* drow = dx + (n * s.H + ih) * s.W * C;
  for (int64_t kh = 0; kh < s.KH; ++kh) {
    const int64_t num = ih + s.pad_top - kh * s.DH;
    if (num < 0) break;  // decreases with kh
    if (num % s.SH != 0) continue;
    const int64_t oh = num / s.SH;
    if (oh < oa || oh >= ob) continue;
    const float* crow = cols + ((n * s.OH + oh - r0) * s.OW) * K + kh * s.KW * C;
    for (int64_t kw = 0; kw < s.KW; ++kw) {
      const int64_t off = s.pad_left - kw * s.DW;  // iw = ow*SW - off
      const int64_t ow_lo = off > 0 ? (off + s.SW - 1) / s.SW : 0;
      const int64_t last = s.W - 1 + off;
      const int64_t ow_hi = last < 0 ? 0 : std::min(s.OW, last / s.SW + 1);
      for (int64_t ow = ow_lo; ow < ow_hi; ++ow) {
        float* d = drow + (ow * s.SW - off) * C;
        const float* src = crow + ow * K + kw * C;
        for (int64_t c = 0; c < C; ++c) d[c] += src[c];
      }
    }
  }
}

}  // namespace

namespace detail {

void im2col_rows(const float* x, float* cols, const Conv2DShape& s, int64_t r0, int64_t r1) {
  if (r1 <= r0 || s.OH <= 0 || s.OW <= 0) return;
  const int64_t K = s.KH * s.KW * s.C;
  if (K == 0) return;
  const bool par = threaded((r1 - r0) * s.OW * K, r1 - r0);
  detail::parallel_for(r0, r1, par ? get_num_threads() : 1, [&](int64_t r) {
    im2col_one_row(x, cols + (r - r0) * s.OW * K, s, r / s.OH, r % s.OH);
  });
}

void col2im_rows_acc(const float* cols, float* dx, const Conv2DShape& s, int64_t r0, int64_t r1) {
  if (r1 <= r0 || s.OH <= 0 || s.OW <= 0 || s.H <= 0 || s.W <= 0 || s.C <= 0) return;
  const int64_t n_first = r0 / s.OH, n_last = (r1 - 1) / s.OH;
  const int64_t tasks = (n_last - n_first + 1) * s.H;
  const int64_t K = s.KH * s.KW * s.C;
  const bool par = threaded((r1 - r0) * s.OW * K, tasks);
  detail::parallel_for(0, tasks, par ? get_num_threads() : 1, [&](int64_t t) {
    const int64_t n = n_first + t / s.H, ih = t % s.H;
    const int64_t oa = std::max<int64_t>(r0 - n * s.OH, 0);
    const int64_t ob = std::min<int64_t>(r1 - n * s.OH, s.OH);
    // Input rows this image's output rows [oa, ob) can touch.
    const int64_t lo = oa * s.SH - s.pad_top;
    const int64_t hi = (ob - 1) * s.SH - s.pad_top + (s.KH - 1) * s.DH;
    if (ih < lo || ih > hi) return;
    col2im_one_row(cols, dx, s, n, ih, oa, ob, r0);
  });
}

}  // namespace detail

void im2col_nhwc(const float* x, float* cols, const Conv2DShape& s, int64_t n0, int64_t n1) {
  detail::im2col_rows(x, cols, s, n0 * s.OH, n1 * s.OH);
}

void col2im_nhwc(const float* cols, float* dx, const Conv2DShape& s, int64_t n0, int64_t n1) {
  if (n1 <= n0) return;
  const int64_t img = s.H * s.W * s.C;
  if (img <= 0) return;
  std::memset(dx + n0 * img, 0, static_cast<size_t>((n1 - n0) * img) * sizeof(float));
  detail::col2im_rows_acc(cols, dx, s, n0 * s.OH, n1 * s.OH);
}

}  // namespace nnforge
