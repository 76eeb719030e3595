// Private to the recurrent kernels (rnn.cpp): fused LSTM / GRU step kernels, one file per ISA
// (rnn_kernels_avx512.cpp), chosen at run time. Where the CPU has none of them rnn.cpp keeps its
// portable path (small GEMM on the GEMM's micro-kernels, then the gate arithmetic row by row).
//
// One fused step, for `rows` batch rows and all H units:
//   z = bias + [x_t | h_{s-1}] @ [W; U]  (K = D + H, the k-sum in increasing k: x part, then h
//   part), or, with D = 0, z = h_{s-1} @ U + gates_in (x_t @ W + b computed ahead in one GEMM)
//   i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of z's four column groups
//   c_s = f*c_{s-1} + i*g;  h_s = o*tanh(c_s)
// with the same float formulas as the portable path (fast_math.h, no FMA contraction outside the
// dot products), so each row's result does not depend on how rows are tiled or threaded.
//
// Packed weights (one block per 16 units j0 = 16*b, zero padded past H): for k in [0, D+H),
// 64 floats: columns (gate q, units j0..j0+15) for q = i, f, g, o, of row k of [W; U]. Each block
// is 64-byte aligned; the step runs block by block so the block (K x 64 floats, 32 KiB for
// D = H = 64) stays in L1 while every row tile of the step streams through it.
#pragma once

#include <cstdint>

namespace nnforge {
namespace detail {

// The fields every fused step takes (LstmStep, GruStep add their own).
struct StepIO {
  int64_t D = 0, H = 0;             // D = 0: x_t @ W + b is in the gates (training)
  const float* x = nullptr;         // rows x D, row stride ldx (D > 0)
  int64_t ldx = 0;
  const float* h = nullptr;         // h_{s-1}: rows x H, row stride ldh
  int64_t ldh = 0;
  float* hn = nullptr;              // h_s: rows x H, row stride ldo
  int64_t ldo = 0;
  float* gates = nullptr;           // training: the step's gates, row stride ldg (each cell's
  int64_t ldg = 0;                  // struct says what goes in and out); null: inference
  const float* packed = nullptr;    // the cell's pack layout (64-byte aligned)
  const float* bias = nullptr;      // the cell's pack_bias layout
};

struct LstmStep : StepIO {
  LstmStep() = default;
  explicit LstmStep(const StepIO& io) : StepIO(io) {}
  // gates: rows x 4H, out the activations (i, f, g, o); in (D = 0) x_t W + b. bias (D > 0):
  // lstm_pack_bias's layout, or null (no bias).
  const float* cp = nullptr;        // c_{s-1}: rows x H, row stride ldcp
  int64_t ldcp = 0;
  float* cn = nullptr;              // c_s: rows x H, row stride ldo
};

struct LstmKernels {
  const char* name;
  // Floats of packed weights for K = D + H rows (including alignment padding of the blocks).
  int64_t (*packed_size)(int64_t K, int64_t H);
  // packed <- [W; U] (W: D x 4H, U: H x 4H, both row-major with row stride 4H; D may be 0).
  void (*pack)(const float* W, int64_t D, const float* U, int64_t H, float* packed);
  int64_t (*bias_size)(int64_t H);
  void (*pack_bias)(const float* b, int64_t H, float* packed);
  void (*step)(const LstmStep& s, int64_t rows);
};

// GRU with reset_after (Keras's default), one fused step for `rows` rows and all H units:
//   zr = x_t [Wz Wr] + h_{s-1} [Uz Ur] + b_in_zr + b_rec_zr     (training: x part from gates_in)
//   xh = x_t Wh + b_in_h;  hh = h_{s-1} Uh + b_rec_h
//   z, r = sigmoid(zr);  cand = tanh(xh + r*hh);  h_s = z*h_{s-1} + (1 - z)*cand
// Packed weights: per 16-unit block, for k in [0, D+H): 48 floats, the block's columns of
// gates z, r, h of row k of [W; U] (zero padded past H). Packed bias: per block 4 x 16 floats,
// the initial sums of (zr_z, zr_r, xh, hh): inference (b_in + b_rec for z and r, b_in_h,
// b_rec_h); training (b_rec_z, b_rec_r, 0, b_rec_h).
struct GruStep : StepIO {
  GruStep() = default;
  explicit GruStep(const StepIO& io) : StepIO(io) {}
  // D = 0 in training mode (x_t @ W + b_in is in the gates). gates: rows x 3H, in x_t W + b_in,
  // out the activations (z, r, cand). bias: gru_pack_bias's layout (never null).
  float* aux = nullptr;             // training: rows x H, row stride ldaux: hh
  int64_t ldaux = 0;
};

struct GruKernels {
  int64_t (*packed_size)(int64_t K, int64_t H);
  // packed <- [W; U] (W: D x 3H, U: H x 3H, row stride 3H; D may be 0).
  void (*pack)(const float* W, int64_t D, const float* U, int64_t H, float* packed);
  int64_t (*bias_size)(int64_t H);
  // b: (2, 3H) [input; recurrent] or null (zeros); train: the training layout (see above).
  void (*pack_bias)(const float* b, int64_t H, bool train, float* packed);
  void (*step)(const GruStep& s, int64_t rows);
};

// Null where the CPU (or NNFORGE_ISA) does not allow them.
const LstmKernels* lstm_kernels_avx512();
const GruKernels* gru_kernels_avx512();

}  // namespace detail
}  // namespace nnforge
