// Losses on the GPU with the semantics of cpp/include/nnforge/loss.h: per-sample losses[N] and,
// when grad is non-null, grad = scale * d losses[i] / d y_pred. One warp per sample.
#include <cmath>

#include "common.cuh"

namespace nnforge {
namespace cuda {

namespace {

constexpr float kEps = 1e-7f;
constexpr float kOneMinusEps = 1.f - 1e-7f;

// clip(q, eps, 1 - eps) by compare and select, as the CPU does: a NaN q stays NaN (fminf/fmaxf
// would return the bound and hide it), so a NaN prediction gives a NaN loss on both devices.
__device__ __forceinline__ float clip_p(float q) {
  return q < kEps ? kEps : (q > kOneMinusEps ? kOneMinusEps : q);
}
// Where the clip is inactive its derivative is 1, elsewhere 0 (tf.clip_by_value's gradient).
__device__ __forceinline__ bool unclipped(float q) { return q >= kEps && q <= kOneMinusEps; }

// Probabilities: p = clip(y / S), S = row sum; loss = -sum t log p (terms with t == 0 skipped).
// d loss / d y_k = sum_j(u_j t_j) / S - u_k t_k / (p_k S)   (u: clip inactive and t != 0).
// Logits, everything relative to the row maximum m (no m + log(se) that is subtracted again,
// which loses ~1e-3 relative at logits ~1e3): loss = sum(t) log(se) - sum t (z - m), with
// se = sum exp(z - m); grad = softmax(z) sum(t) - t.
__global__ void cce_kernel(const float* y_true, const float* y_pred, float* losses, float* grad,
                           int64_t N, int64_t C, bool from_logits, float scale) {
  const int lane = threadIdx.x % 32;
  NNF_WARP_ROW_LOOP(row, N) {
    const float* t = y_true + row * C;
    const float* y = y_pred + row * C;
    if (from_logits) {
      const float mx = warp_row_max(y, C, lane);
      float se = 0.f, ts = 0.f, tz = 0.f;
      for (int64_t c = lane; c < C; c += 32) {
        const float z = y[c] - mx;
        se += expf(z);
        ts += t[c];
        tz += t[c] * z;
      }
      se = warp_sum(se);
      ts = warp_sum(ts);
      tz = warp_sum(tz);
      if (lane == 0) losses[row] = ts * logf(se) - tz;
      if (grad != nullptr) {
        float* gr = grad + row * C;
        for (int64_t c = lane; c < C; c += 32)
          gr[c] = scale * (expf(y[c] - mx) / se * ts - t[c]);
      }
    } else {
      float S = 0.f;
      for (int64_t c = lane; c < C; c += 32) S += y[c];
      S = warp_sum(S);
      float l = 0.f, tu = 0.f;
      for (int64_t c = lane; c < C; c += 32) {
        const float q = y[c] / S;
        if (t[c] != 0.f) {
          l -= t[c] * logf(clip_p(q));
          if (unclipped(q)) tu += t[c];
        }
      }
      l = warp_sum(l);
      tu = warp_sum(tu);
      if (lane == 0) losses[row] = l;
      if (grad != nullptr) {
        float* gr = grad + row * C;
        for (int64_t c = lane; c < C; c += 32) {
          const float q = y[c] / S;
          const float own = (unclipped(q) && t[c] != 0.f) ? t[c] / (clip_p(q) * S) : 0.f;
          gr[c] = scale * (tu / S - own);
        }
      }
    }
  }
}

__global__ void scce_kernel(const int64_t* labels, const float* y_pred, float* losses,
                            float* grad, int64_t N, int64_t C, bool from_logits, float scale) {
  const int lane = threadIdx.x % 32;
  NNF_WARP_ROW_LOOP(row, N) {
    const float* y = y_pred + row * C;
    const int64_t lab = labels[row];
    if (lab < 0 || lab >= C) {  // callers check labels; never read or write out of bounds
      if (lane == 0) losses[row] = NAN;
      if (grad != nullptr)
        for (int64_t c = lane; c < C; c += 32) grad[row * C + c] = NAN;
      continue;
    }
    if (from_logits) {
      const RowMaxSumExp r = warp_row_max_sumexp(y, C, lane);
      if (lane == 0) losses[row] = logf(r.sum) - (y[lab] - r.max);
      if (grad != nullptr) {
        float* gr = grad + row * C;
        for (int64_t c = lane; c < C; c += 32)
          gr[c] = scale * (expf(y[c] - r.max) / r.sum - (c == lab ? 1.f : 0.f));
      }
    } else {
      float S = 0.f;
      for (int64_t c = lane; c < C; c += 32) S += y[c];
      S = warp_sum(S);
      const float q = y[lab] / S;
      const float p = clip_p(q);
      if (lane == 0) losses[row] = -logf(p);
      if (grad != nullptr) {
        const float u = unclipped(q) ? 1.f : 0.f;
        float* gr = grad + row * C;
        for (int64_t c = lane; c < C; c += 32)
          gr[c] = scale * (u / S - (c == lab ? u / (p * S) : 0.f));
      }
    }
  }
}

// Element-wise over D outputs; loss = mean over D.
__global__ void bce_kernel(const float* y_true, const float* y_pred, float* losses, float* grad,
                           int64_t N, int64_t D, bool from_logits, float scale) {
  const int lane = threadIdx.x % 32;
  const float gscale = scale / static_cast<float>(D);
  NNF_WARP_ROW_LOOP(row, N) {
    const float* t = y_true + row * D;
    const float* y = y_pred + row * D;
    float* gr = grad != nullptr ? grad + row * D : nullptr;
    float l = 0.f;
    for (int64_t d = lane; d < D; d += 32) {
      const float ti = t[d], yi = y[d];
      if (from_logits) {
        l += (yi < 0.f ? 0.f : yi) - yi * ti + log1pf(expf(-fabsf(yi)));  // NaN stays NaN
        if (gr) gr[d] = gscale * (1.f / (1.f + expf(-yi)) - ti);
      } else {
        const float p = clip_p(yi);
        l -= ti * logf(p) + (1.f - ti) * logf(1.f - p);
        if (gr) gr[d] = unclipped(yi) ? gscale * (-ti / p + (1.f - ti) / (1.f - p)) : 0.f;
      }
    }
    l = warp_sum(l);
    if (lane == 0) losses[row] = l / static_cast<float>(D);
  }
}

__global__ void mse_kernel(const float* y_true, const float* y_pred, float* losses, float* grad,
                           int64_t N, int64_t D, float scale) {
  const int lane = threadIdx.x % 32;
  const float gscale = 2.f * scale / static_cast<float>(D);
  NNF_WARP_ROW_LOOP(row, N) {
    const float* t = y_true + row * D;
    const float* y = y_pred + row * D;
    float l = 0.f;
    for (int64_t d = lane; d < D; d += 32) {
      const float diff = y[d] - t[d];
      l += diff * diff;
      if (grad != nullptr) grad[row * D + d] = gscale * diff;
    }
    l = warp_sum(l);
    if (lane == 0) losses[row] = l / static_cast<float>(D);
  }
}

}  // namespace

cudaError_t categorical_crossentropy(const float* y_true, const float* y_pred, float* losses,
                                     float* grad, int64_t N, int64_t C, bool from_logits,
                                     float scale, cudaStream_t s) {
  if (N == 0) return cudaSuccess;
  cce_kernel<<<grid_rows(N), kThreads, 0, s>>>(y_true, y_pred, losses, grad, N, C, from_logits,
                                               scale);
  return last_error();
}

cudaError_t sparse_categorical_crossentropy(const int64_t* labels, const float* y_pred,
                                            float* losses, float* grad, int64_t N, int64_t C,
                                            bool from_logits, float scale, cudaStream_t s) {
  if (N == 0) return cudaSuccess;
  scce_kernel<<<grid_rows(N), kThreads, 0, s>>>(labels, y_pred, losses, grad, N, C, from_logits,
                                                scale);
  return last_error();
}

cudaError_t binary_crossentropy(const float* y_true, const float* y_pred, float* losses,
                                float* grad, int64_t N, int64_t D, bool from_logits, float scale,
                                cudaStream_t s) {
  if (N == 0) return cudaSuccess;
  bce_kernel<<<grid_rows(N), kThreads, 0, s>>>(y_true, y_pred, losses, grad, N, D, from_logits,
                                               scale);
  return last_error();
}

cudaError_t mean_squared_error(const float* y_true, const float* y_pred, float* losses,
                               float* grad, int64_t N, int64_t D, float scale, cudaStream_t s) {
  if (N == 0) return cudaSuccess;
  mse_kernel<<<grid_rows(N), kThreads, 0, s>>>(y_true, y_pred, losses, grad, N, D, scale);
  return last_error();
}

}  // namespace cuda
}  // namespace nnforge
