// Activations, softmax, bias add / bias gradient and optimizer updates on the GPU, with the
// semantics of cpp/include/nnforge/activation.h and optim.h. Element-wise kernels use 64-bit
// grid-stride loops; row-wise ones give each row to one warp.
#include <cmath>

#include "common.cuh"

namespace nnforge {
namespace cuda {

namespace {

__global__ void act_fwd_kernel(int act, const float* x, float* y, int64_t n) {
  NNF_GRID_LOOP(i, n) { y[i] = apply_act(act, x[i]); }
}

__global__ void act_bwd_kernel(int act, const float* y, const float* dy, float* dx, int64_t n) {
  NNF_GRID_LOOP(i, n) { dx[i] = dy[i] * act_grad_from_y(act, y[i]); }
}

constexpr int kWarpsPerBlock = kThreads / 32;

inline unsigned grid_rows(int64_t rows) {
  int64_t b = (rows + kWarpsPerBlock - 1) / kWarpsPerBlock;
  if (b < 1) b = 1;
  if (b > 65536) b = 65536;
  return static_cast<unsigned>(b);
}

// One warp per row, rows strided over the grid.
#define NNF_WARP_ROW_LOOP(row, rows)                                                          \
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;   \
       row < (rows); row += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock)

__global__ void softmax_fwd_kernel(const float* x, float* y, int64_t rows, int64_t cols) {
  const int lane = threadIdx.x % 32;
  NNF_WARP_ROW_LOOP(row, rows) {
    const float* xr = x + row * cols;
    float* yr = y + row * cols;
    float mx = -INFINITY;
    for (int64_t c = lane; c < cols; c += 32) mx = fmaxf(mx, xr[c]);
    mx = warp_max(mx);
    float s = 0.f;
    for (int64_t c = lane; c < cols; c += 32) s += expf(xr[c] - mx);
    s = warp_sum(s);
    const float inv = 1.f / s;
    for (int64_t c = lane; c < cols; c += 32) yr[c] = expf(xr[c] - mx) * inv;
  }
}

__global__ void softmax_bwd_kernel(const float* y, const float* dy, float* dx, int64_t rows,
                                   int64_t cols) {
  const int lane = threadIdx.x % 32;
  NNF_WARP_ROW_LOOP(row, rows) {
    const float* yr = y + row * cols;
    const float* dyr = dy + row * cols;
    float* dxr = dx + row * cols;
    float dot = 0.f;
    for (int64_t c = lane; c < cols; c += 32) dot += dyr[c] * yr[c];
    dot = warp_sum(dot);
    // Each lane rewrites only the entries it read, so dx == dy is safe.
    for (int64_t c = lane; c < cols; c += 32) dxr[c] = yr[c] * (dyr[c] - dot);
  }
}

__global__ void bias_add_kernel(float* y, const float* bias, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  NNF_GRID_LOOP(i, n) { y[i] += bias[i % cols]; }
}

// Partial column sums: block (32 x 8) owns 32 columns and the row range of split blockIdx.y.
// Rows are summed per thread (stride 8), then the 8 partials are added in a fixed order.
__global__ void bias_grad_partial(const float* dy, float* out, int64_t rows, int64_t cols,
                                  int64_t chunk) {
  __shared__ float part[8][33];
  const int tx = threadIdx.x % 32, ty = threadIdx.x / 32;
  const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 + tx;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * chunk;
  const int64_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
  float s = 0.f;
  if (c < cols)
    for (int64_t r = r0 + ty; r < r1; r += 8) s += dy[r * cols + c];
  part[ty][tx] = s;
  __syncthreads();
  if (ty == 0 && c < cols) {
    float t = part[0][tx];
#pragma unroll
    for (int k = 1; k < 8; ++k) t += part[k][tx];
    out[static_cast<int64_t>(blockIdx.y) * cols + c] = t;
  }
}

__global__ void bias_grad_final(const float* partial, float* db, int64_t splits, int64_t cols) {
  NNF_GRID_LOOP(c, cols) {
    float t = 0.f;
    for (int64_t k = 0; k < splits; ++k) t += partial[k * cols + c];
    db[c] = t;
  }
}

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
      vi = fmaxf(vhat[i], vi);
      vhat[i] = vi;
    }
    p[i] -= alpha * mi / (sqrtf(vi) + eps);
  }
}

}  // namespace

cudaError_t activation_forward(Act act, const float* x, float* y, int64_t n, cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  act_fwd_kernel<<<grid_for(n), kThreads, 0, s>>>(static_cast<int>(act), x, y, n);
  return last_error();
}

cudaError_t activation_backward(Act act, const float* y, const float* dy, float* dx, int64_t n,
                                cudaStream_t s) {
  if (n == 0) return cudaSuccess;
  act_bwd_kernel<<<grid_for(n), kThreads, 0, s>>>(static_cast<int>(act), y, dy, dx, n);
  return last_error();
}

cudaError_t softmax_forward(const float* x, float* y, int64_t rows, int64_t cols,
                            cudaStream_t s) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  softmax_fwd_kernel<<<grid_rows(rows), kThreads, 0, s>>>(x, y, rows, cols);
  return last_error();
}

cudaError_t softmax_backward(const float* y, const float* dy, float* dx, int64_t rows,
                             int64_t cols, cudaStream_t s) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  softmax_bwd_kernel<<<grid_rows(rows), kThreads, 0, s>>>(y, dy, dx, rows, cols);
  return last_error();
}

cudaError_t bias_add(float* y, const float* bias, int64_t rows, int64_t cols, cudaStream_t s) {
  if (rows == 0 || cols == 0) return cudaSuccess;
  bias_add_kernel<<<grid_for(rows * cols), kThreads, 0, s>>>(y, bias, rows, cols);
  return last_error();
}

cudaError_t bias_grad(const float* dy, float* db, int64_t rows, int64_t cols, cudaStream_t s) {
  if (cols == 0) return cudaSuccess;
  // About 1024 rows per split, at most 1024 splits: the order of the sums depends only on the
  // shape, so the result is deterministic.
  int64_t splits = (rows + 1023) / 1024;
  if (splits < 1) splits = 1;
  if (splits > 1024) splits = 1024;
  const int64_t chunk = rows > 0 ? (rows + splits - 1) / splits : 1;
  const int64_t col_blocks = (cols + 31) / 32;
  if (col_blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  dim3 grid(static_cast<unsigned>(col_blocks), static_cast<unsigned>(splits));
  if (splits == 1) {
    bias_grad_partial<<<grid, kThreads, 0, s>>>(dy, db, rows, cols, chunk);
    return last_error();
  }
  float* partial = nullptr;
  NNF_CUDA_TRY(cudaMallocAsync(reinterpret_cast<void**>(&partial),
                               static_cast<size_t>(splits * cols) * sizeof(float), s));
  bias_grad_partial<<<grid, kThreads, 0, s>>>(dy, partial, rows, cols, chunk);
  cudaError_t e = last_error();
  if (e == cudaSuccess) {
    bias_grad_final<<<grid_for(cols), kThreads, 0, s>>>(partial, db, splits, cols);
    e = last_error();
  }
  cudaError_t f = cudaFreeAsync(partial, s);
  return e != cudaSuccess ? e : f;
}

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
