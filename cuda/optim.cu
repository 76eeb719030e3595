// Optimizer updates on the GPU (SGD with momentum / Nesterov, Adam / AMSGrad), in place, with the
// semantics of cpp/include/nnforge/optim.h (the CPU twin is cpp/src/optim.cpp). One thread per
// element, 64-bit grid-stride loops.
#include <cmath>

#include "common.cuh"

namespace nnforge {
namespace cuda {

namespace {

__global__ void sgd_kernel(float* p, const float* g, float* vel, int64_t n, float lr,
                           float momentum, bool nesterov) {
  NNF_GRID_LOOP(i, n) {
    const float gi = g[i];
    if (vel == nullptr) {
      p[i] -= lr * gi;
    } else {
      const float v = momentum * vel[i] - lr * gi;
      vel[i] = v;
      p[i] += nesterov ? momentum * v - lr * gi : v;
    }
  }
}

__global__ void adam_kernel(float* p, const float* g, float* m, float* v, float* vhat, int64_t n,
                            float alpha, float one_minus_b1, float one_minus_b2, float eps) {
  NNF_GRID_LOOP(i, n) {
    const float gi = g[i];
    float mi = m[i], vi = v[i];
    mi += (gi - mi) * one_minus_b1;
    vi += (gi * gi - vi) * one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    if (vhat != nullptr) {
      // std::max(vhat, v) as on the CPU: a NaN v keeps the old vhat (fmaxf would too, but a
      // NaN vhat must stay NaN, which fmaxf would not give).
      const float vh = vhat[i];
      vi = vh < vi ? vi : vh;
      vhat[i] = vi;
    }
    p[i] -= alpha * mi / (sqrtf(vi) + eps);
  }
}

}  // namespace

cudaError_t sgd_update(float* p, const float* g, float* velocity, int64_t n, float lr,
                       float momentum, bool nesterov, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  sgd_kernel<<<grid_for(n), kThreads, 0, s>>>(p, g, momentum == 0.f ? nullptr : velocity, n, lr,
                                              momentum, nesterov);
  return last_error();
}

cudaError_t adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n,
                        float lr, float beta1, float beta2, float epsilon, int64_t t,
                        cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  const double td = static_cast<double>(t);
  const double alpha = static_cast<double>(lr) *
                       std::sqrt(1.0 - std::pow(static_cast<double>(beta2), td)) /
                       (1.0 - std::pow(static_cast<double>(beta1), td));
  adam_kernel<<<grid_for(n), kThreads, 0, s>>>(p, g, m, v, vhat, n, static_cast<float>(alpha),
                                               1.f - beta1, 1.f - beta2, epsilon);
  return last_error();
}

}  // namespace cuda
}  // namespace nnforge
