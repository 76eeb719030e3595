// Host-side API of nnforge's CUDA kernels (cuda/*.cu). Plain C++17 (compiled by nvcc for the .cu
// files and by the host compiler for bindings.cpp): no device code and no Python types here.
//
// Every launcher works on raw device pointers with explicit sizes, enqueues its kernels on
// `stream` and returns the first CUDA error (cudaSuccess when all launches succeeded). Semantics
// are exactly those of the CPU kernels declared in cpp/include/nnforge/*.h; the bindings
// (cuda/bind/) have validated every array before a launcher runs. Scratch memory, where needed,
// is the caller's workspace (ws, ws_bytes; sized by the *_workspace_bytes functions): nothing
// here allocates, so all device memory comes from CuPy's pool. Files: gemm.cu, activation.cu,
// conv.cu (im2col, col2im, conv2d), pool.cu, loss.cu, optim.cu, rnn.cu, one per family as in
// cpp/src.
#pragma once
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "nnforge/common.h"
#include "nnforge/im2col.h"
#include "nnforge/pool.h"
#include "nnforge/rnn.h"

namespace nnforge {
namespace cuda {

// GEMM arithmetic: FP32 on CUDA cores; TF32 or BF16 inputs (rounded from the FP32 operands while
// they are staged in shared memory) with FP32 accumulation on tensor cores (mma.sync, sm_80+).
// TF32/BF16 fall back to FP32 on devices below compute capability 8.0.
enum class Precision : int { FP32 = 0, TF32 = 1, BF16 = 2 };

// Compute capability (major * 10 + minor) of the current device; 0 when unknown.
int current_device_cc();

// C[M,N] = alpha * op(A) @ op(B) + beta * C (+ bias[N]) then act; row-major, leading dimensions
// as in nnforge/gemm.h. beta == 0: C is not read. K == 0: C = beta * C (+ bias, act).
cudaError_t sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc, const float* bias, Act act, Precision prec, cudaStream_t stream);
// True when `prec` would run on tensor cores on the current device.
bool tensor_cores_used(Precision prec);

// ---- activation.h ---- (activation.cu)
cudaError_t activation_forward(Act act, const float* x, float* y, int64_t n, cudaStream_t s);
cudaError_t activation_backward(Act act, const float* y, const float* dy, float* dx, int64_t n,
                                cudaStream_t s);
cudaError_t softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, cudaStream_t s);
cudaError_t softmax_backward(const float* y, const float* dy, float* dx, int64_t rows,
                             int64_t cols, cudaStream_t s);
cudaError_t bias_add(float* y, const float* bias, int64_t rows, int64_t cols, cudaStream_t s);
// Deterministic: a fixed two-pass reduction (its order depends only on rows and cols). Above
// 1024 rows the partial sums need bias_grad_workspace_bytes(rows, cols) bytes of ws.
size_t bias_grad_workspace_bytes(int64_t rows, int64_t cols);
cudaError_t bias_grad(const float* dy, float* db, int64_t rows, int64_t cols, void* ws,
                      size_t ws_bytes, cudaStream_t s);

// ---- im2col.h ----
cudaError_t im2col_nhwc(const float* x, float* cols, const Conv2DShape& sh, int64_t n0,
                        int64_t n1, cudaStream_t s);
cudaError_t col2im_nhwc(const float* cols, float* dx, const Conv2DShape& sh, int64_t n0,
                        int64_t n1, cudaStream_t s);
// Bytes of scratch the convolution launchers need when they may use at most `limit` bytes:
// whole images of im2col rows (at least one image), 0 for a 1x1/stride-1/unpadded convolution.
// conv2d_backward_filter with db also needs bias_grad_workspace_bytes(N*OH*OW, F) (the same
// buffer serves both, one after the other).
size_t conv2d_workspace_bytes(const Conv2DShape& sh, size_t limit);
cudaError_t conv2d_forward(const float* x, const float* w, const float* bias, Act act, float* y,
                           const Conv2DShape& sh, Precision prec, void* ws, size_t ws_bytes,
                           cudaStream_t s);
cudaError_t conv2d_backward_input(const float* dy, const float* w, float* dx,
                                  const Conv2DShape& sh, Precision prec, void* ws,
                                  size_t ws_bytes, cudaStream_t s);
cudaError_t conv2d_backward_filter(const float* x, const float* dy, float* dw, float* db,
                                   const Conv2DShape& sh, Precision prec, void* ws,
                                   size_t ws_bytes, cudaStream_t s);

// ---- pool.h ---- (max_pool2d_backward gathers through the window geometry in sh: it is
// deterministic, and argmax values that name no element of their window are ignored)
cudaError_t max_pool2d_forward(const float* x, float* y, int32_t* argmax, const Pool2DShape& sh,
                               cudaStream_t s);
cudaError_t max_pool2d_backward(const float* dy, const int32_t* argmax, float* dx,
                                const Pool2DShape& sh, cudaStream_t s);
cudaError_t avg_pool2d_forward(const float* x, float* y, const Pool2DShape& sh, cudaStream_t s);
cudaError_t avg_pool2d_backward(const float* dy, float* dx, const Pool2DShape& sh,
                                cudaStream_t s);

// ---- loss.h ----
cudaError_t categorical_crossentropy(const float* y_true, const float* y_pred, float* losses,
                                     float* grad, int64_t N, int64_t C, bool from_logits,
                                     float scale, cudaStream_t s);
// Out-of-range labels (the bindings' callers check them) give a NaN loss, never a stray access.
cudaError_t sparse_categorical_crossentropy(const int64_t* labels, const float* y_pred,
                                            float* losses, float* grad, int64_t N, int64_t C,
                                            bool from_logits, float scale, cudaStream_t s);
cudaError_t binary_crossentropy(const float* y_true, const float* y_pred, float* losses,
                                float* grad, int64_t N, int64_t D, bool from_logits, float scale,
                                cudaStream_t s);
cudaError_t mean_squared_error(const float* y_true, const float* y_pred, float* losses,
                               float* grad, int64_t N, int64_t D, float scale, cudaStream_t s);

// ---- optim.h ----
cudaError_t sgd_update(float* p, const float* g, float* velocity, int64_t n, float lr,
                       float momentum, bool nesterov, cudaStream_t s);
cudaError_t adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n,
                        float lr, float beta1, float beta2, float epsilon, int64_t t,
                        cudaStream_t s);

// ---- rnn.h ---- (rnn.cu) Whole-sequence LSTM / GRU with the CPU kernels' arguments, layouts
// and saved buffers (every pointer in the args on the device); the time loop runs on the host,
// enqueuing a recurrent GEMM and a fused gate kernel per step. embedding_backward has no GPU
// twin (the backend scatters with cupy.add.at).
size_t rnn_forward_workspace_bytes(const RnnForwardArgs& a);
cudaError_t rnn_forward(const RnnForwardArgs& a, Precision prec, void* ws, size_t ws_bytes,
                        cudaStream_t s);
size_t rnn_backward_workspace_bytes(const RnnForwardArgs& a, bool with_bias);
cudaError_t rnn_backward(const RnnBackwardArgs& b, Precision prec, void* ws, size_t ws_bytes,
                         cudaStream_t s);

}  // namespace cuda
}  // namespace nnforge
