// Private to the kernels: the row-range forms of im2col / col2im (defined in im2col.cpp), which
// the convolution kernels (conv2d.cpp) call on chunks of whole output rows r = n*OH + oh.
#pragma once

#include <cstdint>

#include "nnforge/im2col.h"

namespace nnforge {
namespace detail {

// cols row (r - r0)*OW + ow = the (KH, KW, C) patch of output pixel (n, oh, ow), r0 <= r < r1.
void im2col_rows(const float* x, float* cols, const Conv2DShape& s, int64_t r0, int64_t r1);
// dx += col2im(cols) for output rows [r0, r1) (a gather: bitwise the same for any thread count).
void col2im_rows_acc(const float* cols, float* dx, const Conv2DShape& s, int64_t r0, int64_t r1);

}  // namespace detail
}  // namespace nnforge
