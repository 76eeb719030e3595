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
void max_pool2d_forward(const float* x, float* y, int32_t* argmax, const Pool2DShape& s);
// dx overwritten: zero, then dy scattered (accumulated) to the argmax positions.
void max_pool2d_backward(const float* dy, const int32_t* argmax, float* dx, const Pool2DShape& s);
// The same for disjoint windows (SH == KH, SW == KW, no padding) and an argmax computed by
// max_pool2d_forward with this shape: dx(p) = dy(o) if argmax(o) == p for the window o holding p,
// else 0 (also 0 outside every window). Each dx element is written once; argmax is only
// compared, never used as an address, so any argmax content is memory-safe.
void max_pool2d_backward_disjoint(const float* dy, const int32_t* argmax, float* dx,
                                  const Pool2DShape& s);
void avg_pool2d_forward(const float* x, float* y, const Pool2DShape& s);
// dx overwritten.
void avg_pool2d_backward(const float* dy, float* dx, const Pool2DShape& s);

}  // namespace nnforge
