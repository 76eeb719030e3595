// Activations, softmax, bias add and bias gradient on the GPU, with the semantics of
// cpp/include/nnforge/activation.h (the CPU twin is cpp/src/activation.cpp). Element-wise kernels
// use 64-bit grid-stride loops; row-wise ones give each row to one warp.

#include "common.cuh"

namespace nnforge {
namespace cuda {

namespace {

__global__ void act_fwd_kernel(int act, const float* x, float* y, int64_t n) {
  NNF_GRID_LOOP(i, n) { y[i] = elementwise_act(act, x[i]); }
}

__global__ void act_bwd_kernel(int act, const float* y, const float* dy, float* dx, int64_t n) {
  NNF_GRID_LOOP(i, n) { dx[i] = act_backward(act, y[i], dy[i]); }
}

__global__ void softmax_fwd_kernel(const float* x, float* y, int64_t rows, int64_t cols) {
  const int lane = threadIdx.x % 32;
  NNF_WARP_ROW_LOOP(row, rows) {
    const float* xr = x + row * cols;
    float* yr = y + row * cols;
    const RowMaxSumExp r = warp_row_max_sumexp(xr, cols, lane);
    const float inv = 1.f / r.sum;
    for (int64_t c = lane; c < cols; c += 32) yr[c] = expf(xr[c] - r.max) * inv;
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

// Splits of about 1024 rows, at most 1024 of them: the order of the sums depends only on the
// shape, so the result is deterministic.
int64_t bias_grad_splits(int64_t rows) {
  int64_t splits = (rows + 1023) / 1024;
  if (splits < 1) splits = 1;
  if (splits > 1024) splits = 1024;
  return splits;
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


size_t bias_grad_workspace_bytes(int64_t rows, int64_t cols) {
  const int64_t splits = bias_grad_splits(rows);
  return splits == 1 ? 0 : static_cast<size_t>(splits * cols) * sizeof(float);
}

cudaError_t bias_grad(const float* dy, float* db, int64_t rows, int64_t cols, void* ws,
                      size_t ws_bytes, cudaStream_t s) {
  if (cols == 0) return cudaSuccess;
  const int64_t splits = bias_grad_splits(rows);
  const int64_t chunk = rows > 0 ? (rows + splits - 1) / splits : 1;
  const int64_t col_blocks = (cols + 31) / 32;
  if (col_blocks > 0x7fffffff) return cudaErrorInvalidConfiguration;
  dim3 grid(static_cast<unsigned>(col_blocks), static_cast<unsigned>(splits));
  if (splits == 1) {
    bias_grad_partial<<<grid, kThreads, 0, s>>>(dy, db, rows, cols, chunk);
    return last_error();
  }
  // The partial sums live in the caller's workspace (CuPy's memory pool): no allocation here.
  if (ws == nullptr || ws_bytes < bias_grad_workspace_bytes(rows, cols))
    return cudaErrorInvalidValue;  // the bindings check the size first
  float* partial = static_cast<float*>(ws);
  bias_grad_partial<<<grid, kThreads, 0, s>>>(dy, partial, rows, cols, chunk);
  NNF_CUDA_TRY(last_error());
  bias_grad_final<<<grid_for(cols), kThreads, 0, s>>>(partial, db, splits, cols);
  return last_error();
}

}  // namespace cuda
}  // namespace nnforge
