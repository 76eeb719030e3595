// Element-wise activations, softmax, and bias add / bias gradient.
#pragma once
#include <cstdint>
#include "nnforge/common.h"

namespace nnforge {

// y = act(x), n elements (x == y allowed: in place).
void activation_forward(Act act, const float* x, float* y, int64_t n);
// dx = dy * act'(.) expressed through the forward OUTPUT y (relu: y > 0; sigmoid: y(1-y);
// tanh: 1-y^2; linear: 1). dx == dy allowed.
void activation_backward(Act act, const float* y, const float* dy, float* dx, int64_t n);

// Row-wise numerically stable softmax over the last axis: x, y are rows x cols.
void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols);
// dx = y * (dy - sum(dy * y, row)).
void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols);

// y[r, c] += bias[c] for a rows x cols matrix, in place.
void bias_add(float* y, const float* bias, int64_t rows, int64_t cols);
// db[c] = sum_r dy[r, c]. Summation order is fixed (independent of the thread count).
void bias_grad(const float* dy, float* db, int64_t rows, int64_t cols);

}  // namespace nnforge
