// Device-side helpers shared by cuda/*.cu: launch geometry, activations, warp reductions.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels.cuh"

namespace nnforge {
namespace cuda {

constexpr int kThreads = 256;

// Blocks for a grid-stride loop over n elements (capped; the loop covers the rest).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65536) b = 65536;
  return static_cast<unsigned>(b);
}

// The error of the launches just made (and clears the sticky-free launch error state).
inline cudaError_t last_error() { return cudaGetLastError(); }

#define NNF_CUDA_TRY(expr)                      \
  do {                                          \
    cudaError_t nnf_err_ = (expr);              \
    if (nnf_err_ != cudaSuccess) return nnf_err_; \
  } while (0)

// act(v) with the CPU kernels' formulas (precise expf/tanhf: no fast math).
__device__ __forceinline__ float apply_act(int act, float v) {
  switch (act) {
    case 1: return v > 0.f ? v : 0.f;
    case 2: return 1.f / (1.f + expf(-v));
    case 3: return tanhf(v);
    default: return v;
  }
}

// act'(.) through the forward output y.
__device__ __forceinline__ float act_grad_from_y(int act, float y) {
  switch (act) {
    case 1: return y > 0.f ? 1.f : 0.f;
    case 2: return y * (1.f - y);
    case 3: return 1.f - y * y;
    default: return 1.f;
  }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Grid-stride loop index helpers (64-bit).
#define NNF_GRID_LOOP(i, n)                                                             \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

}  // namespace cuda
}  // namespace nnforge
