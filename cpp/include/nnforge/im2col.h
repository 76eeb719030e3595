// im2col / col2im for NHWC images and the Conv2D kernels built on them (im2col + sgemm).
#pragma once
#include <cstdint>
#include "nnforge/common.h"

namespace nnforge {

// Shapes of a 2-D convolution in Keras's layout:
//   x  (N, H, W, C)         NHWC input
//   w  (KH, KW, C, F)       kernel, read as a (KH*KW*C) x F matrix
//   y  (N, OH, OW, F)       output, read as a (N*OH*OW) x F matrix
// Padding is explicit: pad_top / pad_left rows/columns of zeros before the image; the bottom and
// right padding is whatever OH / OW imply (TensorFlow's 'same' puts the odd extra one there).
// Output position (oh, ow) reads input row oh*SH - pad_top + kh*DH, column ow*SW - pad_left + kw*DW.
struct Conv2DShape {
  int64_t N, H, W, C;
  int64_t KH, KW, F;
  int64_t SH, SW;  // strides >= 1
  int64_t DH, DW;  // dilation >= 1
  int64_t pad_top, pad_left;  // >= 0
  int64_t OH, OW;  // >= 1 unless N == 0
};

// cols[(n - n0)*OH*OW + oh*OW + ow, (kh*KW + kw)*C + c] = x[n, ih, iw, c] (0 outside the image),
// for images n in [n0, n1).
void im2col_nhwc(const float* x, float* cols, const Conv2DShape& s, int64_t n0, int64_t n1);
// The adjoint: dx[n] for n in [n0, n1) is OVERWRITTEN with the sum of the cols entries that read it.
void col2im_nhwc(const float* cols, float* dx, const Conv2DShape& s, int64_t n0, int64_t n1);

// y = act(conv(x, w) + bias); bias (F) nullable. im2col over batch chunks with bounded scratch;
// a 1x1, stride-1, unpadded, undilated convolution goes straight to sgemm.
void conv2d_forward(const float* x, const float* w, const float* bias, Act act, float* y,
                    const Conv2DShape& s);
// dx (N, H, W, C), overwritten: col2im(dy @ w^T).
void conv2d_backward_input(const float* dy, const float* w, float* dx, const Conv2DShape& s);
// dw (KH, KW, C, F) overwritten with im2col(x)^T @ dy; db (F) nullable, overwritten with the
// column sums of dy. Deterministic (batch chunks accumulated in a fixed order).
void conv2d_backward_filter(const float* x, const float* dy, float* dw, float* db,
                            const Conv2DShape& s);
// The same for a convolution with a fused activation, y = act(conv(x, w) + bias): dw and db from
// dz = act'(y) * dy (y and dy of the output's shape). For a small filter over many rows (conv1)
// dz is formed chunk by chunk next to its im2col rows and never stored whole; otherwise it is
// formed once, then as conv2d_backward_filter. Deterministic.
void conv2d_backward_filter_act(const float* x, const float* y, const float* dy, Act act,
                                float* dw, float* db, const Conv2DShape& s);

struct Pool2DShape;
// out = max_pool2d(conv2d_forward(x, w, bias, act)), bitwise the same as the two kernels one
// after the other, without the convolution's output ever leaving the cache: p is the pooling's
// shape over the convolution's output (p.H, p.W, p.C = s.OH, s.OW, s.F). argmax (nullable, the
// shape of out) gets max_pool2d_forward_local's uint8 window index of each winner, for a training
// step's backward (needs p.KH * p.KW <= 256). Returns false (out and argmax untouched) where one
// image's convolution output is too large to stay in the cache.
bool conv2d_max_pool_forward(const float* x, const float* w, const float* bias, Act act,
                             float* out, uint8_t* argmax, const Conv2DShape& s,
                             const Pool2DShape& p);

// 3x3 stride-1 convolutions with enough channels run conv2d_forward and conv2d_backward_input
// through Winograd's F(2x2, 3x3) (cpp/src/winograd.h); set_winograd(false) sends them through
// im2col + GEMM instead, for the calls that follow (tests, benchmarks). On by default.
void set_winograd(bool on);
bool get_winograd();

}  // namespace nnforge
