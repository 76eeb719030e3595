// Optimizer updates, in place on the parameter and its slots, with Keras's formulas.
#pragma once
#include <cstdint>

namespace nnforge {

// momentum == 0: p -= lr * g (velocity may be null).
// else: v = momentum * v - lr * g;  p += nesterov ? momentum * v - lr * g : v.
void sgd_update(float* p, const float* g, float* velocity, int64_t n, float lr, float momentum,
                bool nesterov);

// Keras 3 Adam, step t >= 1 (the step being taken):
//   alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
//   m += (g - m) * (1 - beta1);  v += (g*g - v) * (1 - beta2)
//   amsgrad (vhat non-null): vhat = max(vhat, v), used in place of v below
//   p -= alpha * m / (sqrt(v) + epsilon)
// Runs with subnormals flushed to zero (FTZ/DAZ, as TensorFlow's CPU kernels): a moment below
// FLT_MIN reads and becomes 0 (optim.cpp says why).
void adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n, float lr,
                 float beta1, float beta2, float epsilon, int64_t t);

}  // namespace nnforge
