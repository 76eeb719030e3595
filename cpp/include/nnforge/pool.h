// 2-D max and average pooling on NHWC tensors, forward and backward.
#pragma once
#include <cstdint>

namespace nnforge {

// x (N, H, W, C) -> y (N, OH, OW, C); window KH x KW, strides SH, SW; explicit top/left padding,
// bottom/right implied by OH, OW (TensorFlow 'same'). Padding never wins a max and is never
// counted by the average (average divides by the number of real elements in the window).
struct Pool2DShape {
  int64_t N, H, W, C;
  int64_t KH, KW;
  int64_t SH, SW;
  int64_t pad_top, pad_left;
  int64_t OH, OW;
};

// argmax (N, OH, OW, C) nullable: index (ih*W + iw)*C + c of the winner inside its image.
// The winner is the first maximum in row-major window order (strict >: NaN never replaces it).
void max_pool2d_forward(const float* x, float* y, int32_t* argmax, const Pool2DShape& s);
// The same with a compact argmax (N, OH, OW, C), nullable: the winner's index inside its window,
// (ih - hs)*KW + (iw - ws) for the window starting at (hs, ws) = (oh*SH - pad_top,
// ow*SW - pad_left); needs KH*KW <= 256. A quarter of the int32 argmax's memory traffic.
void max_pool2d_forward_local(const float* x, float* y, uint8_t* argmax, const Pool2DShape& s);
// dx overwritten: zero, then dy scattered (accumulated) to the argmax positions.
void max_pool2d_backward(const float* dy, const int32_t* argmax, float* dx, const Pool2DShape& s);
// The same through the window geometry, for an argmax computed by max_pool2d_forward (int32) or
// max_pool2d_forward_local (uint8) with this shape: each dx element is gathered once from the
// windows that hold it, dx(p) = sum over those windows o (in increasing oh, then ow) of dy(o)
// where argmax(o) names p -- bitwise the scatter's result -- and 0 where no window holds p.
// argmax is only compared, never used as an address, so any argmax content is memory-safe.
void max_pool2d_backward_windows(const float* dy, const int32_t* argmax, float* dx,
                                 const Pool2DShape& s);
void max_pool2d_backward_windows(const float* dy, const uint8_t* argmax, float* dx,
                                 const Pool2DShape& s);
// The same with relu's gradient folded in (uint8 argmax): each window's dy counts only where
// relu_y, the pooled output (N, OH, OW, C) of a relu layer, is > 0 -- bitwise this function on
// (relu_y > 0 ? dy : 0), the activation's gradient, without that pass. A pooled value is the
// window's winner, which is positive exactly when its relu passed a gradient.
void max_pool2d_backward_windows_relu(const float* dy, const uint8_t* argmax,
                                      const float* relu_y, float* dx, const Pool2DShape& s);
void avg_pool2d_forward(const float* x, float* y, const Pool2DShape& s);
// dx overwritten; each element gathered once: 0 + the sum, in increasing (oh, ow), of
// dy(o) * (1 / real elements of window o) over the windows o that hold it.
void avg_pool2d_backward(const float* dy, float* dx, const Pool2DShape& s);

}  // namespace nnforge
