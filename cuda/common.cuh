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

// Returns the error of a runtime call from the enclosing launcher. A failed call also records
// itself as the runtime's "last error"; it is cleared here, so the next, unrelated launch does
// not report it again through cudaGetLastError().
#define NNF_CUDA_TRY(expr)               \
  do {                                   \
    cudaError_t nnf_err_ = (expr);       \
    if (nnf_err_ != cudaSuccess) {       \
      cudaGetLastError();                \
      return nnf_err_;                   \
    }                                    \
  } while (0)

// Activations, with the CPU kernels' formulas (precise expf/tanhf: no fast math) and their
// NaN behaviour, which differs between the two CPU entry points and is matched here:
//  * elementwise_act: activation_forward (cpu: `x > 0 ? x : 0`, so ReLU maps NaN to 0);
//  * epilogue_act: the GEMM / convolution epilogue (cpu: max(0, x) micro-kernels and the
//    generic `x > 0 ? x : (x != x ? x : 0)`, so ReLU keeps NaN).
__device__ __forceinline__ float sigmoid_act(float v) { return 1.f / (1.f + expf(-v)); }

__device__ __forceinline__ float elementwise_act(int act, float v) {
  switch (act) {
    case 1: return v > 0.f ? v : 0.f;
    case 2: return sigmoid_act(v);
    case 3: return tanhf(v);
    default: return v;
  }
}

__device__ __forceinline__ float epilogue_act(int act, float v) {
  switch (act) {
    case 1: return v < 0.f ? 0.f : v;  // NaN fails the test and passes through
    case 2: return sigmoid_act(v);
    case 3: return tanhf(v);
    default: return v;
  }
}

// dx = dy * act'(.) through the forward output y. ReLU selects (y > 0 ? dy : 0) as the CPU
// does: a multiply by 0 would turn an infinite dy into NaN.
__device__ __forceinline__ float act_backward(int act, float y, float dy) {
  switch (act) {
    case 1: return y > 0.f ? dy : 0.f;
    case 2: return dy * (y * (1.f - y));
    case 3: return dy * (1.f - y * y);
    default: return dy;
  }
}

// One warp per row (softmax, losses): rows strided over a grid of kThreads-thread blocks.
constexpr int kWarpsPerBlock = kThreads / 32;

inline unsigned grid_rows(int64_t rows) {
  int64_t b = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  if (b < 1) b = 1;
  if (b > 65536) b = 65536;
  return static_cast<unsigned>(b);
}

#define NNF_WARP_ROW_LOOP(row, rows)                                                          \
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;   \
       row < (rows); row += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock)

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

// The maximum of a row of n floats read by one warp (lane reads lane, lane + 32, ...), reduced
// over the warp: every lane gets it.
__device__ __forceinline__ float warp_row_max(const float* x, int64_t n, int lane) {
  float mx = -INFINITY;
  for (int64_t c = lane; c < n; c += 32) mx = fmaxf(mx, x[c]);
  return warp_max(mx);
}

// A row's maximum m and se = sum exp(x - m), as softmax and the log-softmax losses use them,
// read and reduced as in warp_row_max.
struct RowMaxSumExp {
  float max, sum;
};

__device__ __forceinline__ RowMaxSumExp warp_row_max_sumexp(const float* x, int64_t n, int lane) {
  const float mx = warp_row_max(x, n, lane);
  float se = 0.f;
  for (int64_t c = lane; c < n; c += 32) se += expf(x[c] - mx);
  return RowMaxSumExp{mx, warp_sum(se)};
}

// Grid-stride loop index helpers (64-bit).
#define NNF_GRID_LOOP(i, n)                                                             \
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

}  // namespace cuda
}  // namespace nnforge
