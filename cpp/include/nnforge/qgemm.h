// int8 GEMM (u8 x s8 -> s32, VNNI style) and the int8 Dense / Conv2D inference kernels built on it.
// Quantization follows Keras 3 (quantizers.abs_max_quantize): a scale is a multiplier,
//   scale = 127 / (max|x| + 1e-7),  q = clip(round_half_even(x * scale), -127, 127),  x ~ q / scale,
// all in float32. Output of a quantized layer: act(float(acc) / (x_scale[row] * w_scale[col]) + bias).
#pragma once
#include <cstdint>

#include "nnforge/common.h"
#include "nnforge/im2col.h"

namespace nnforge {

// Packed int8 weights W (K x N), built by nnforge.backend.quantized.Int8PackedWeights:
//   panels: int8 [NP = ceil(N/16)][KG = ceil(K/4)][16][4]:
//           panels[p][g][c][t] = W(4g + t, 16p + c), zero where 4g+t >= K or 16p+c >= N.
//   comp:   int32 [NP*16]: comp[j] = -128 * sum_k W(k, j) (0 for padded columns): the kernels
//           compute with unsigned activations x + 128 (vpdpbusd multiplies u8 by s8) and start
//           each accumulator at comp[j], so the result is exactly sum_k x(i,k) * W(k,j).
struct QPacked {
  const int8_t* panels;
  const int32_t* comp;
  int64_t K, N;
};

// Largest K the kernels accept: |sum_k x*w| <= 127*127*K must fit in int32 (the accumulators
// wrap modulo 2^32 on the way, which is harmless because the final sum fits).
constexpr int64_t kQGemmMaxK = 131072;

// q (M x K) and scale (M) of each row of x (M x K), as quantizers.abs_max_quantize(x, axis=1).
void quantize_rows_s8(const float* x, int64_t M, int64_t K, int8_t* q, float* scale);

// C (M x N, int32, row stride N) = xq (M x K, int8, row stride K) @ W, exactly.
void qgemm_s8s32(const int8_t* xq, int64_t M, const QPacked& w, int32_t* C);

// int8 Dense on float inputs x (M x K):
//   xq = quantize(x) per row (x_scale <= 0) or with the static scale x_scale (> 0);
//   y  = act(float(xq @ W) / (xs[row] * w_scale[col]) + bias[col])     (bias nullable)
//   out_scale <= 0: out is float (M x N);  > 0: out is int8 clip(round(y * out_scale), -127, 127).
void qdense_s8(const float* x, int64_t M, const QPacked& w, const float* w_scale,
               const float* bias, Act act, float x_scale, float out_scale, void* out);

// int8 Conv2D (NHWC, geometry as im2col.h, s.F == w.N, s.KH*s.KW*s.C == w.K): each image x[n] is
// quantized with its own scale 127 / (max|x[n]| + 1e-7) (x_scale <= 0) or the static x_scale; the
// rows of the im2col matrix of the quantized images (zero padding = 0) then go through the GEMM
// as in qdense_s8, each row rescaled by its image's scale: float output y (N, OH, OW, F).
void qconv2d_s8(const float* x, const QPacked& w, const float* w_scale, const float* bias, Act act,
                float x_scale, const Conv2DShape& s, float* y);

// The int8 instruction set in use: "avx512_vnni", "avx_vnni", "avx2" or "generic". The default is
// the best the CPU has; NNFORGE_INT8_ISA (read once, at the first int8 call) or set_int8_isa may
// choose a lower one. set_int8_isa returns false (and changes nothing) for an unknown name or one
// the CPU lacks. int8_isa_supported tells whether the CPU has it.
const char* int8_isa();
bool set_int8_isa(const char* name);
bool int8_isa_supported(const char* name);

}  // namespace nnforge
