// Losses with Keras semantics. Each writes per-sample losses[N] and, when grad is non-null,
// grad = scale * d losses[i] / d y_pred (so scale = 1/N gives the gradient of the batch mean).
#pragma once
#include <cstdint>

namespace nnforge {

// Probabilities (from_logits=false): y_pred is normalised by its row sum, then clipped to
// [1e-7, 1 - 1e-7]; loss = -sum(y_true * log(p)). Logits: loss = -sum(y_true * log_softmax(z)),
// fused and stable; its gradient is softmax(z) * sum(y_true) - y_true.
void categorical_crossentropy(const float* y_true, const float* y_pred, float* losses,
                              float* grad, int64_t N, int64_t C, bool from_logits, float scale);
// labels[N] in [0, C) (checked by the bindings).
void sparse_categorical_crossentropy(const int64_t* labels, const float* y_pred, float* losses,
                                     float* grad, int64_t N, int64_t C, bool from_logits,
                                     float scale);
// Element-wise over D outputs, per-sample loss = mean over D. Probabilities clipped to
// [1e-7, 1 - 1e-7]; logits use the stable max(z,0) - z*t + log(1 + exp(-|z|)).
void binary_crossentropy(const float* y_true, const float* y_pred, float* losses, float* grad,
                         int64_t N, int64_t D, bool from_logits, float scale);
// per-sample loss = mean over D of (y_pred - y_true)^2.
void mean_squared_error(const float* y_true, const float* y_pred, float* losses, float* grad,
                        int64_t N, int64_t D, float scale);

}  // namespace nnforge
