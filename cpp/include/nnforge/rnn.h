// Whole-sequence recurrent kernels (LSTM, GRU) and the embedding gradient.
//
// Layouts are Keras's: inputs x (N, T, D) batch-major; kernel W (D, G*H); recurrent kernel
// U (H, G*H); LSTM gates along columns i, f, c, o (G = 4); GRU gates z, r, h (G = 3).
//
// Index conventions. "Time" t indexes the input (x, mask, and the saved gates/aux, which line up
// with x so that the weight gradients are single GEMMs over (N*T) rows). "Step" s indexes the
// processing order: t = s, or t = T-1-s with go_backwards. The state sequences h_all / c_all and
// the output sequence are in step order, which is what Keras returns for go_backwards.
//
// Masks (Keras semantics): at a masked step (mask[n, t] == 0) the states carry through unchanged;
// the output is the previous step's output (zeros before the first unmasked step), or zeros with
// zero_output_for_mask. The last output y_last follows the same rule.
//
// Forward (one call for the whole sequence):
//   1. gates[(n,t), :] = x[n,t] @ W + b_in            one sgemm over N*T rows, bias fused
//      (the fused AVX-512 LSTM step computes b + [x_t | h_{s-1}] @ [W; U] in 2. instead)
//   2. per step, per row block: gates += h_{s-1} @ U   (GRU: a separate recurrent product),
//      then the gate arithmetic, all inside the kernel; OpenMP over batch rows (rows are
//      independent through the whole sequence, so no barrier per step).
// Backward (one call): the per-step recurrence of dh (and dc) inside the kernel, then dx, dW,
// dU and db as single GEMMs / column sums over all steps (LSTM: [dW; dU; db] as one GEMM over
// rows [x_t | h_{s-1} | 1] that the recurrence saves beside each other).
//
// Results do not depend on the number of threads (rows are split, never a reduction).
#pragma once
#include <cstdint>

namespace nnforge {

enum class RnnCell : int { LSTM = 0, GRU = 1 };

struct RnnForwardArgs {
  RnnCell cell = RnnCell::LSTM;
  bool reset_after = true;  // GRU only
  int64_t N = 0, T = 0, D = 0, H = 0;
  const float* x = nullptr;          // (N, T, D)
  const float* kernel = nullptr;     // (D, G*H)
  const float* recurrent = nullptr;  // (H, G*H)
  // LSTM: (4H) or null. GRU reset_after: (2, 3H) [input bias; recurrent bias] or null.
  // GRU reset_after=False: (3H) or null.
  const float* bias = nullptr;
  const float* h0 = nullptr;         // (N, H) or null (zeros)
  const float* c0 = nullptr;         // (N, H) or null (zeros); LSTM only
  const uint8_t* mask = nullptr;     // (N, T) 0/1 or null
  bool go_backwards = false;
  bool zero_output_for_mask = false;
  // Outputs (caller-owned):
  float* gates = nullptr;  // (N, T, G*H) by time: activated gates (LSTM i,f,g,o; GRU z,r,cand)
  float* aux = nullptr;    // GRU: (N, T, H) by time: reset_after: h_{s-1} U_h + b_rec_h;
                           //      reset_after=False: r * h_{s-1}. LSTM: unused.
  float* h_all = nullptr;  // (N, T, H) by step: the state h after each step
  float* c_all = nullptr;  // (N, T, H) by step: the LSTM cell state after each step
  float* y_seq = nullptr;  // (N, T, H) by step, or null: the output sequence (with a mask it
                           // differs from h_all; without one the caller may use h_all)
  float* y_last = nullptr; // (N, H): the last output
  // rnn_infer only (rnn_forward reads the final states from h_all / c_all):
  float* h_last = nullptr; // (N, H) or null: the final h state
  float* c_last = nullptr; // (N, H) or null: the final c state (LSTM)
};

struct RnnBackwardArgs {
  RnnForwardArgs fwd;            // the forward's arguments and saved buffers (outputs unused)
  const float* dy_seq = nullptr;   // (N, T, H) by step, or null
  const float* dy_last = nullptr;  // (N, H) or null
  const float* dh_T = nullptr;     // (N, H) or null: gradient of the final h state
  const float* dc_T = nullptr;     // (N, H) or null: gradient of the final c state (LSTM)
  // Outputs (caller-owned; null: not wanted, except dkernel and drecurrent which are required):
  float* dx = nullptr;          // (N, T, D)
  float* dkernel = nullptr;     // (D, G*H)
  float* drecurrent = nullptr;  // (H, G*H)
  float* dbias = nullptr;       // shape of bias
  float* dh0 = nullptr;         // (N, H)
  float* dc0 = nullptr;         // (N, H)
};

void rnn_forward(const RnnForwardArgs& a);
// Forward for inference: the same outputs (y_seq, y_last) and final states (h_last, c_last),
// nothing saved for a backward (gates, aux, h_all, c_all unused), each thread's rows kept in
// cache through the whole sequence. Results equal rnn_forward's within float32 rounding (the
// input projection is summed per step instead of in one GEMM over N*T rows).
void rnn_infer(const RnnForwardArgs& a);
void rnn_backward(const RnnBackwardArgs& a);

// Embedding lookup: out[i] = table[ids[i]] for i < n (rows of dim floats); ids must be in
// [0, rows). Threads split i when the copy is large enough to pay for them.
void embedding_gather(const float* table, int64_t rows, int64_t dim, const int64_t* ids,
                      int64_t n, float* out);

// Embedding gradient: dtable (rows, dim) = 0, then dtable[ids[i]] += dy[i] for i < n (in order
// of i for each row, so the result is deterministic). ids must be in [0, rows).
void embedding_backward(const int64_t* ids, int64_t n, const float* dy, int64_t dim,
                        float* dtable, int64_t rows);

}  // namespace nnforge
