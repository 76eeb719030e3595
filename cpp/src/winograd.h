// Private to the kernels: 3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016), used by conv2d.cpp
// for the shapes winograd_applies() accepts. Defined in winograd.cpp.
#pragma once

#include <cstdint>
#include <vector>

#include "nnforge/common.h"
#include "nnforge/im2col.h"

namespace nnforge {
namespace detail {

// Whether y = conv(x, w) of this shape goes through Winograd: a 3x3 kernel, stride 1,
// dilation 1, at least kMinChannels input channels and filters (below that the transforms cost
// more than the multiplications they save), at least 4 output tiles (2x2 pixels) per image,
// and not switched off
// (set_winograd, nnforge/im2col.h). Depends on the shape and that switch only, never on the thread count.
bool winograd_applies(const Conv2DShape& s);

// y = act(conv(x, w) + bias) for a shape winograd_applies() accepts (bias nullable).
void winograd_conv3x3(const float* x, const float* w, const float* bias, Act act, float* y,
                      const Conv2DShape& s);

// The same in two steps, for callers that convolve several batches with one filter: the
// filter's transform U (16 x C x F) once, then the convolution of each batch with it.
std::vector<float> winograd_filter(const float* w, int64_t C, int64_t F);
void winograd_conv3x3_transformed(const float* x, const float* U, const float* bias, Act act,
                                  float* y, const Conv2DShape& s);

// dx (overwritten) = the gradient of conv(x, w) with respect to x, as the convolution of dy
// (padded by 2 - pad) with w rotated by 180 degrees and its channel axes swapped, when that
// convolution is one winograd_applies() accepts; returns false (dx untouched) otherwise.
bool winograd_conv3x3_backward_input(const float* dy, const float* w, float* dx,
                                     const Conv2DShape& s);

}  // namespace detail
}  // namespace nnforge
