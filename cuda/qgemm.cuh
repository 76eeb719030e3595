// Host-side API of the int8 CUDA kernels (cuda/qgemm.cu): the twins of cpp/include/nnforge/qgemm.h
// on device pointers. Same conventions as kernels.cuh (raw pointers, explicit sizes, enqueued on
// `stream`, first CUDA error returned; the bindings in cuda/bind/qgemm.cpp validated everything).
//
// The packed weights are the CPU's (nnforge/qgemm.h): panels int8 [ceil(N/16)][ceil(K/4)][16][4],
// read here as int32 words (4 consecutive k of one column) for __dp4a, which multiplies signed by
// signed bytes: no +128 shift, so the CPU's `comp` column sums are not needed on the GPU.
#pragma once
#include <cuda_runtime_api.h>

#include <cstdint>

#include "nnforge/common.h"

namespace nnforge {
namespace cuda {

// q (M x K int8, row stride K) and scale (M): static_scale > 0: that scale for every row; else
// 127 / (max|row| + 1e-7) per row (Keras's abs_max_quantize). q = clip(rint(x * scale), -127, 127).
cudaError_t quantize_rows_s8(const float* x, int64_t M, int64_t K, float static_scale, int8_t* q,
                             float* scale, cudaStream_t stream);

// out (M x N) from xq (M x K int8) and the packed W (K x N):
//   mode 0: int32 xq @ W (exact);
//   mode 1: float y = act(float(acc) / (xs[row] * ws[col]) + bias[col])  (bias nullable);
//   mode 2: int8 clip(rint(y * out_scale), -127, 127).
cudaError_t qgemm_s8(const int8_t* xq, int64_t M, int64_t K, const int8_t* panels, int64_t N,
                     int mode, const float* xs, const float* ws, const float* bias, Act act,
                     float out_scale, void* out, cudaStream_t stream);

}  // namespace cuda
}  // namespace nnforge
