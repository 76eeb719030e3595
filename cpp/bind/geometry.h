// Convolution and pooling geometry checks, shared by nnforge._cpu (cpp/bind/conv.cpp, pool.cpp)
// and nnforge._cuda (cuda/bind/conv.cpp, pool.cpp): both take the same NHWC shapes and the same
// kernel / strides / dilation / pad pairs, so one set of rules decides what reaches a kernel.
// Sizes come in as plain int64 (the callers read them from a py::array or a DevArray).
#pragma once
#include <cstdint>
#include <string>

#include "check.h"
#include "nnforge/im2col.h"
#include "nnforge/pool.h"

namespace nnforge_bind {

// a + b, refusing int64 overflow.
inline int64_t add(const std::string& fn, int64_t a, int64_t b, const std::string& what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail(fn, "size overflow computing " + what);
  return r;
}

inline std::string geom_desc(const Pair& st, const Pair& dil, const Pair& pad) {
  return "strides " + pair_str(st) + ", dilation " + pair_str(dil) + ", pad " + pair_str(pad);
}

// The convolution shape from sizes and geometry, checking everything the kernels rely on:
// sizes >= 0, kernel in [1, 2^31 - 1], OH, OW >= 1 when N > 0, and every element count, the
// im2col matrix in bytes (N*OH*OW, KH*KW*C) and every input coordinate the kernels form
// (OH*SH + KH*DH + pad) fitting int64. `desc` names the arrays and geometry for the message.
inline nnforge::Conv2DShape conv2d_shape(const std::string& fn, int64_t N, int64_t H, int64_t W,
                                         int64_t C, int64_t KH, int64_t KW, int64_t F,
                                         const Pair& st, const Pair& dil, const Pair& pad,
                                         int64_t OH, int64_t OW, const std::string& desc) {
  if (N < 0 || H < 0 || W < 0 || C < 0 || F < 0 || OH < 0 || OW < 0)
    fail(fn, "sizes must be >= 0: " + desc);
  if (KH < 1 || KW < 1)
    fail(fn, "kernel size must be >= 1, got (" + std::to_string(KH) + ", " + std::to_string(KW) +
                 "): " + desc);
  if (KH > kMaxGeom || KW > kMaxGeom) fail(fn, "kernel size too large: " + desc);
  if (N > 0 && (OH < 1 || OW < 1))
    fail(fn, "output size (OH, OW) = (" + std::to_string(OH) + ", " + std::to_string(OW) +
                 ") must be >= 1 when the batch is not empty: " + desc);
  const int64_t K = mul(fn, mul(fn, KH, KW, "KH*KW"), C, "KH*KW*C");
  const int64_t rows = mul(fn, mul(fn, N, OH, "N*OH"), OW, "N*OH*OW");
  mul(fn, mul(fn, rows, K, "N*OH*OW*KH*KW*C: " + desc), 4, "im2col bytes: " + desc);
  mul(fn, rows, F, "N*OH*OW*F: " + desc);
  mul(fn, K, F, "KH*KW*C*F: " + desc);
  mul(fn, mul(fn, mul(fn, N, H, "N*H"), W, "N*H*W"), C, "N*H*W*C: " + desc);
  add(fn, add(fn, mul(fn, OH, st[0], "OH*SH"), mul(fn, KH, dil[0], "KH*DH"), "rows span"),
      add(fn, pad[0], H, "pad+H"), "rows span: " + desc);
  add(fn, add(fn, mul(fn, OW, st[1], "OW*SW"), mul(fn, KW, dil[1], "KW*DW"), "cols span"),
      add(fn, pad[1], W, "pad+W"), "cols span: " + desc);
  nnforge::Conv2DShape s;
  s.N = N; s.H = H; s.W = W; s.C = C;
  s.KH = KH; s.KW = KW; s.F = F;
  s.SH = st[0]; s.SW = st[1];
  s.DH = dil[0]; s.DW = dil[1];
  s.pad_top = pad[0]; s.pad_left = pad[1];
  s.OH = OH; s.OW = OW;
  return s;
}

// The im2col / col2im shape: the kernel, strides, dilation, pad and out_hw arguments (checked in
// that order) over an x-like (N,H,W,C) array of sizes x. `arrays` names x and cols for messages
// ("x (1, 5, 5, 2), cols (9, 18)"); `desc` receives it with the geometry, for the caller's own
// check of cols.
inline nnforge::Conv2DShape cols_geometry(const std::string& fn, const int64_t (&x)[4],
                                          const std::string& arrays, const py::object& kernel,
                                          const py::object& strides, const py::object& dilation,
                                          const py::object& pad, const py::object& out_hw,
                                          std::string& desc) {
  const Pair k = pair_arg(fn, "kernel", kernel, 1);
  const Pair st = pair_arg(fn, "strides", strides, 1);
  const Pair dil = pair_arg(fn, "dilation", dilation, 1);
  const Pair pd = pair_arg(fn, "pad", pad, 0);
  const Pair o = pair_arg(fn, "out_hw", out_hw, 0);
  desc = arrays + ", kernel " + pair_str(k) + ", out_hw " + pair_str(o) + ", " +
         geom_desc(st, dil, pd);
  return conv2d_shape(fn, x[0], x[1], x[2], x[3], k[0], k[1], 0, st, dil, pd, o[0], o[1], desc);
}

// The pooling shape of an x-like (N,H,W,C) and a y-like (N,OH,OW,C) array: batch and channels
// agree, element counts and window starts fit int64, OH, OW, H, W >= 1 when N > 0, and every
// window holds at least one real element (padding never wins a max and is never averaged, so an
// all-padding window has no value). `desc` names the arrays and geometry for the message.
inline nnforge::Pool2DShape pool2d_shape(const std::string& fn, const int64_t (&x)[4],
                                         const int64_t (&y)[4], const Pair& k, const Pair& st,
                                         const Pair& pd, const std::string& desc) {
  if (x[0] != y[0]) fail(fn, "batch sizes differ: " + desc);
  if (x[3] != y[3]) fail(fn, "channel counts differ: " + desc);
  nnforge::Pool2DShape s;
  s.N = x[0]; s.H = x[1]; s.W = x[2]; s.C = x[3];
  s.KH = k[0]; s.KW = k[1]; s.SH = st[0]; s.SW = st[1];
  s.pad_top = pd[0]; s.pad_left = pd[1];
  s.OH = y[1]; s.OW = y[2];
  mul(fn, mul(fn, mul(fn, s.N, s.OH, "N*OH"), s.OW, "N*OH*OW"), s.C, "N*OH*OW*C: " + desc);
  mul(fn, mul(fn, mul(fn, s.N, s.H, "N*H"), s.W, "N*H*W"), s.C, "N*H*W*C: " + desc);
  mul(fn, mul(fn, s.OH + s.pad_top, s.SH, "(OH+pad)*SH"), 2, "window starts: " + desc);
  mul(fn, mul(fn, s.OW + s.pad_left, s.SW, "(OW+pad)*SW"), 2, "window starts: " + desc);
  if (s.N > 0) {
    if (s.OH < 1 || s.OW < 1)
      fail(fn, "output size (OH, OW) must be >= 1 when the batch is not empty: " + desc);
    if (s.H < 1 || s.W < 1)
      fail(fn, "input height and width must be >= 1 when the batch is not empty: " + desc);
    // Window starts oh*SH - pad_top range over [-pad_top, (OH-1)*SH - pad_top]; each window
    // [start, start + KH) meets [0, H) iff pad_top < KH and the last start < H.
    const int64_t last_h = (s.OH - 1) * s.SH - s.pad_top;
    const int64_t last_w = (s.OW - 1) * s.SW - s.pad_left;
    if (s.pad_top >= s.KH || s.pad_left >= s.KW || last_h >= s.H || last_w >= s.W)
      fail(fn, "some pooling windows hold only padding (need pad < pool and "
               "(OH-1)*SH - pad_top < H, (OW-1)*SW - pad_left < W): " + desc);
  }
  return s;
}

// The geometry description of a pooling call, for messages.
inline std::string pool_desc(const std::string& xdesc, const std::string& ydesc, const Pair& k,
                             const Pair& st, const Pair& pd) {
  return xdesc + ", " + ydesc + ", pool " + pair_str(k) + ", strides " + pair_str(st) +
         ", pad " + pair_str(pd);
}

// pool2d_shape from the pool, strides and pad arguments (checked in that order); xdesc and ydesc
// name the arrays for messages ("x (2, 4, 4, 3)").
inline nnforge::Pool2DShape pool2d_args(const std::string& fn, const int64_t (&x)[4],
                                        const int64_t (&y)[4], const std::string& xdesc,
                                        const std::string& ydesc, const py::object& pool,
                                        const py::object& strides, const py::object& pad) {
  const Pair k = pair_arg(fn, "pool", pool, 1);
  const Pair st = pair_arg(fn, "strides", strides, 1);
  const Pair pd = pair_arg(fn, "pad", pad, 0);
  return pool2d_shape(fn, x, y, k, st, pd, pool_desc(xdesc, ydesc, k, st, pd));
}

// argmax arrays of max pooling (cpp/bind/pool.cpp, conv.cpp's fused conv + pool).
inline void check_aligned(const std::string& fn, const char* name, const py::array& a, size_t align) {
  if (reinterpret_cast<uintptr_t>(a.data()) % align != 0)
    fail(fn, std::string("argument '") + name + "' is not aligned for its dtype");
}

inline bool is_u8(const py::array& a) { return a.dtype().is(py::dtype::of<uint8_t>()); }

// argmax: int32 or uint8, 4-D, C-contiguous (and aligned), optionally writeable.
inline void check_argmax(const std::string& fn, const py::array& a, bool writeable) {
  if (is_u8(a)) {
    if (!(a.flags() & py::array::c_style)) fail(fn, "argument 'argmax' must be C-contiguous");
    if (writeable && !a.writeable()) fail(fn, "argument 'argmax' must be writeable");
    if (a.ndim() != 4) fail(fn, "argument 'argmax' must be 4-D, got shape " + shape_str(a));
    return;
  }
  if (!a.dtype().is(py::dtype::of<int32_t>()))
    fail(fn, "argument 'argmax' must have dtype int32 (index in the image) or uint8 (index in "
             "the window), got " + std::string(py::str(a.dtype())));
  check_i32(fn, "argmax", a, 4, writeable);
  check_aligned(fn, "argmax", a, alignof(int32_t));
}

inline void check_window_fits_u8(const std::string& fn, const nnforge::Pool2DShape& s) {
  if (s.KH * s.KW > 256)
    fail(fn, "a uint8 argmax holds windows of at most 256 elements, pool (" +
                 std::to_string(s.KH) + ", " + std::to_string(s.KW) + ") has " +
                 std::to_string(s.KH * s.KW) + "; use an int32 argmax");
}

}  // namespace nnforge_bind
