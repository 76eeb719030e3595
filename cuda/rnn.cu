// Whole-sequence LSTM / GRU forward and backward-through-time on the GPU, with the semantics,
// layouts and saved buffers of the CPU kernels (cpp/include/nnforge/rnn.h, cpp/src/rnn.cpp):
// one call from Python runs the whole sequence, the time loop runs here, on the host, enqueuing
// per step one recurrent GEMM (cuda::sgemm into the step's gate rows, row stride T*G*H) and one
// fused gate kernel over the N x H units; the input projections of all steps are one GEMM before
// the loop, and the weight / input gradients single GEMMs over all N*T rows after it.
//
// The gate arithmetic uses expf/tanhf (no fast math), the CPU uses its own vectorised exp: the
// two agree within float32 rounding, not bit for bit (tests/gpu compare with a tolerance).
// Everything is enqueued on `stream`; scratch comes from the caller's workspace
// (rnn_*_workspace_bytes); nothing here allocates or synchronises.
#include <cmath>

#include "common.cuh"

namespace nnforge {
namespace cuda {

namespace {

__device__ __forceinline__ float sig(float v) { return 1.f / (1.f + expf(-v)); }

// Unit (n, j) of an N x H grid, as a 64-bit grid-stride loop.
#define NNF_UNIT_LOOP(n, j, N, H)     \
  NNF_GRID_LOOP(nnf_i_, (N) * (H))    \
  for (int64_t n = nnf_i_ / (H), j = nnf_i_ % (H), nnf_once_ = 0; nnf_once_ < 1; ++nnf_once_)

inline int64_t time_of(const RnnForwardArgs& a, int64_t s) {
  return a.go_backwards ? a.T - 1 - s : s;
}

__device__ __forceinline__ bool unmasked(const uint8_t* mask, int64_t n, int64_t T, int64_t t) {
  return mask == nullptr || mask[n * T + t] != 0;
}

// ---- forward gate kernels (gt: the step's gate rows, row stride ldg = T*G*H) ----------------

// LSTM: pre-activations (i, f, c, o) in, activations out; c = f*cp + i*g, h = o*tanh(c); masked
// rows carry h and c through.
__global__ void lstm_fwd(float* gt, int64_t ldg, const float* hp, int64_t ldh, const float* cp,
                         float* cn, float* hn, int64_t ldo, const uint8_t* mask, int64_t N,
                         int64_t T, int64_t t, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    float* z = gt + n * ldg;
    const float i = sig(z[j]), f = sig(z[H + j]), g = tanhf(z[2 * H + j]), o = sig(z[3 * H + j]);
    z[j] = i;
    z[H + j] = f;
    z[2 * H + j] = g;
    z[3 * H + j] = o;
    const float c = f * cp[n * ldh + j] + i * g;
    float h = o * tanhf(c);
    float cc = c;
    if (!unmasked(mask, n, T, t)) {
      h = hp[n * ldh + j];
      cc = cp[n * ldh + j];
    }
    cn[n * ldo + j] = cc;
    hn[n * ldo + j] = h;
  }
}

// GRU reset_after: rec = h_prev U + b_rec (N x 3H); z, r, cand into gt, hh (= rec's h part) into
// aux.
__global__ void gru_after_fwd(float* gt, int64_t ldg, const float* rec, const float* hp,
                              int64_t ldh, float* aux, float* hn, int64_t ldo,
                              const uint8_t* mask, int64_t N, int64_t T, int64_t t, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    float* g = gt + n * ldg;
    const float* rc = rec + n * 3 * H;
    const float z = sig(g[j] + rc[j]);
    const float r = sig(g[H + j] + rc[H + j]);
    const float hh = rc[2 * H + j];
    const float cand = tanhf(g[2 * H + j] + r * hh);
    g[j] = z;
    g[H + j] = r;
    g[2 * H + j] = cand;
    aux[n * ldo + j] = hh;
    const float p = hp[n * ldh + j];
    hn[n * ldo + j] = unmasked(mask, n, T, t) ? z * p + (1.f - z) * cand : p;
  }
}

// GRU reset_after=False, phase 1: z, r (x-part + h_prev U_zr already in gt); rh = r * h_prev.
__global__ void gru_before_zr(float* gt, int64_t ldg, const float* hp, int64_t ldh, float* rh,
                              int64_t ldo, int64_t N, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    float* g = gt + n * ldg;
    const float z = sig(g[j]), r = sig(g[H + j]);
    g[j] = z;
    g[H + j] = r;
    rh[n * ldo + j] = r * hp[n * ldh + j];
  }
}

// Phase 2: cand = tanh(x-part + (r*h_prev) U_h), h = z*h_prev + (1-z)*cand.
__global__ void gru_before_h(float* gt, int64_t ldg, const float* hp, int64_t ldh, float* hn,
                             int64_t ldo, const uint8_t* mask, int64_t N, int64_t T, int64_t t,
                             int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    float* g = gt + n * ldg;
    const float z = g[j];
    const float cand = tanhf(g[2 * H + j]);
    g[2 * H + j] = cand;
    const float p = hp[n * ldh + j];
    hn[n * ldo + j] = unmasked(mask, n, T, t) ? z * p + (1.f - z) * cand : p;
  }
}

// The output sequence / last output from the state sequence and the mask (Keras's rule, as
// write_outputs in cpp/src/rnn.cpp): one thread per unit walks the steps.
__global__ void write_outputs(const float* h_all, float* y_seq, float* y_last,
                              const uint8_t* mask, bool go_backwards, bool zero_output_for_mask,
                              int64_t N, int64_t T, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    const float* hs = h_all + n * T * H + j;
    float prev = 0.f;
    bool seen = false;
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = go_backwards ? T - 1 - s : s;
      const bool m = unmasked(mask, n, T, t);
      seen = seen || m;
      float y = hs[s * H];
      if (!m) y = (zero_output_for_mask || s == 0) ? 0.f : prev;
      if (y_seq) y_seq[(n * T + s) * H + j] = y;
      prev = y;
    }
    bool keep = true;
    if (mask) {
      const int64_t tl = go_backwards ? 0 : T - 1;
      keep = zero_output_for_mask ? mask[n * T + tl] != 0 : seen;
    }
    y_last[n * H + j] = keep ? hs[(T - 1) * H] : 0.f;
  }
}

// ---- backward kernels --------------------------------------------------------------------------

// The gradient reaching h_new at step s (the state's dh plus the output's: dy_seq, dy_last at
// the last step, and the carry of later masked outputs), and Hp by time = h_{s-1}.
__global__ void bwd_step_in(const float* hp, int64_t ldh, float* Hp_t, int64_t ldt,
                            const float* dy_seq_s, const float* dy_last, const float* dh,
                            float* carry, float* dhn, const uint8_t* mask,
                            bool zero_output_for_mask, int64_t N, int64_t T, int64_t t,
                            int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    const int64_t u = n * H + j;
    Hp_t[n * ldt + j] = hp[n * ldh + j];
    float dy = carry[u];
    if (dy_seq_s) dy += dy_seq_s[n * ldt + j];
    if (dy_last) dy += dy_last[u];
    if (unmasked(mask, n, T, t)) {
      dhn[u] = dh[u] + dy;
      carry[u] = 0.f;
    } else {
      dhn[u] = 0.f;
      carry[u] = zero_output_for_mask ? 0.f : dy;
    }
  }
}

// LSTM: dz of the step's gates (masked rows: 0, dc unchanged); dc in: from later steps, out: to
// c_prev.
__global__ void lstm_bwd(const float* gt, int64_t ldg, const float* cp, int64_t ldh,
                         const float* cn, int64_t ldo, const float* dhn, float* dc, float* dzt,
                         const uint8_t* mask, int64_t N, int64_t T, int64_t t, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    const int64_t u = n * H + j;
    float* dz = dzt + n * ldg;
    if (!unmasked(mask, n, T, t)) {
      dz[j] = dz[H + j] = dz[2 * H + j] = dz[3 * H + j] = 0.f;
      continue;
    }
    const float* a = gt + n * ldg;
    const float i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
    const float tc = tanhf(cn[n * ldo + j]);
    const float dct = dc[u] + dhn[u] * o * (1.f - tc * tc);
    dz[j] = dct * g * (i * (1.f - i));
    dz[H + j] = dct * cp[n * ldh + j] * (f * (1.f - f));
    dz[2 * H + j] = dct * i * (1.f - g * g);
    dz[3 * H + j] = dhn[u] * tc * (o * (1.f - o));
    dc[u] = dct * f;
  }
}

// GRU reset_after: dzx (input side), dzr (recurrent side) and the direct path dhp = dh * z.
__global__ void gru_after_bwd(const float* gt, int64_t ldg, const float* aux, int64_t ldo,
                              const float* hp, int64_t ldh, const float* dhn, float* dzx,
                              float* dzr, float* dhp, const uint8_t* mask, int64_t N, int64_t T,
                              int64_t t, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    const int64_t u = n * H + j;
    float* x = dzx + n * ldg;
    float* r_ = dzr + n * ldg;
    if (!unmasked(mask, n, T, t)) {
      x[j] = x[H + j] = x[2 * H + j] = 0.f;
      r_[j] = r_[H + j] = r_[2 * H + j] = 0.f;
      dhp[u] = 0.f;
      continue;
    }
    const float* a = gt + n * ldg;
    const float z = a[j], r = a[H + j], cand = a[2 * H + j];
    const float dh = dhn[u];
    const float dah = dh * (1.f - z) * (1.f - cand * cand);
    const float daz = dh * (hp[n * ldh + j] - cand) * (z * (1.f - z));
    const float dar = dah * aux[n * ldo + j] * (r * (1.f - r));
    x[j] = daz;
    x[H + j] = dar;
    x[2 * H + j] = dah;
    r_[j] = daz;
    r_[H + j] = dar;
    r_[2 * H + j] = dah * r;
    dhp[u] = dh * z;
  }
}

// GRU reset_after=False, phase 1: d(candidate) and d(z) pre-activations (masked rows: all 0).
__global__ void gru_before_bwd_h(const float* gt, int64_t ldg, const float* hp, int64_t ldh,
                                 const float* dhn, float* dzx, const uint8_t* mask, int64_t N,
                                 int64_t T, int64_t t, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    const int64_t u = n * H + j;
    float* x = dzx + n * ldg;
    if (!unmasked(mask, n, T, t)) {
      x[j] = x[H + j] = x[2 * H + j] = 0.f;
      continue;
    }
    const float* a = gt + n * ldg;
    const float z = a[j], cand = a[2 * H + j];
    x[2 * H + j] = dhn[u] * (1.f - z) * (1.f - cand * cand);
    x[j] = dhn[u] * (hp[n * ldh + j] - cand) * (z * (1.f - z));
  }
}

// Phase 2, given drh = d(r*h_prev): d(r) pre-activation and dhp = dh*z + drh*r.
__global__ void gru_before_bwd_r(const float* gt, int64_t ldg, const float* hp, int64_t ldh,
                                 const float* dhn, const float* drh, float* dzx, float* dhp,
                                 const uint8_t* mask, int64_t N, int64_t T, int64_t t,
                                 int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    const int64_t u = n * H + j;
    if (!unmasked(mask, n, T, t)) {
      dhp[u] = 0.f;
      continue;
    }
    const float* a = gt + n * ldg;
    const float z = a[j], r = a[H + j];
    dzx[n * ldg + H + j] = drh[u] * hp[n * ldh + j] * (r * (1.f - r));
    dhp[u] = dhn[u] * z + drh[u] * r;
  }
}

// dh = the recurrent gradient (tmp) on unmasked rows; masked rows carry dh through.
__global__ void bwd_step_out(const float* tmp, float* dh, const uint8_t* mask, int64_t N,
                             int64_t T, int64_t t, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) {
    if (unmasked(mask, n, T, t)) dh[n * H + j] = tmp[n * H + j];
  }
}

// dst (N x H, dense) = src (row stride lds) or 0 when src is null.
__global__ void copy_rows(float* dst, const float* src, int64_t lds, int64_t N, int64_t H) {
  NNF_UNIT_LOOP(n, j, N, H) { dst[n * H + j] = src ? src[n * lds + j] : 0.f; }
}

// ---- workspace ---------------------------------------------------------------------------------

constexpr size_t kAlign = 256;
inline size_t up(size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }

// Carves consecutive float buffers out of the caller's workspace.
struct Carver {
  char* p;
  size_t used = 0;
  float* take(int64_t n) {
    float* r = reinterpret_cast<float*>(p + used);
    used += up(static_cast<size_t>(n) * sizeof(float));
    return r;
  }
};

struct Dims {
  int64_t N, T, D, H, G, GH;
};

Dims dims_of(const RnnForwardArgs& a) {
  const int64_t G = a.cell == RnnCell::LSTM ? 4 : 3;
  return Dims{a.N, a.T, a.D, a.H, G, G * a.H};
}

size_t forward_bytes(const Dims& d, bool after) {
  return up(d.N * d.H * sizeof(float)) + (after ? up(d.N * d.GH * sizeof(float)) : 0);
}

}  // namespace

size_t rnn_forward_workspace_bytes(const RnnForwardArgs& a) {
  const Dims d = dims_of(a);
  return forward_bytes(d, a.cell == RnnCell::GRU && a.reset_after);
}

cudaError_t rnn_forward(const RnnForwardArgs& a, Precision prec, void* ws, size_t ws_bytes,
                        cudaStream_t st) {
  const Dims d = dims_of(a);
  const int64_t N = d.N, T = d.T, D = d.D, H = d.H, GH = d.GH;
  if (N <= 0 || T <= 0) return cudaSuccess;
  const bool lstm = a.cell == RnnCell::LSTM;
  const bool after = !lstm && a.reset_after;
  if (ws_bytes < forward_bytes(d, after)) return cudaErrorInvalidValue;
  Carver w{static_cast<char*>(ws)};
  float* zeros = w.take(N * H);
  float* rec = after ? w.take(N * GH) : nullptr;
  NNF_CUDA_TRY(cudaMemsetAsync(zeros, 0, sizeof(float) * N * H, st));
  const float* b_in = a.bias;
  const float* b_rec = after && a.bias ? a.bias + GH : nullptr;
  const unsigned grid = grid_for(N * H);

  // 1. Input projections of every step: one GEMM over N*T rows, input bias fused.
  NNF_CUDA_TRY(sgemm(false, false, N * T, GH, D, 1.f, a.x, D, a.kernel, GH, 0.f, a.gates, GH,
                     b_in, Act::Linear, prec, st));
  // 2. Per step: the recurrent product into the step's gate rows, then the gate kernel.
  for (int64_t s = 0; s < T; ++s) {
    const int64_t t = time_of(a, s);
    const float* hp = s ? a.h_all + (s - 1) * H : (a.h0 ? a.h0 : zeros);
    const int64_t ldh = s ? T * H : H;
    float* gt = a.gates + t * GH;  // row stride T*GH
    float* hn = a.h_all + s * H;   // row stride T*H
    if (lstm) {
      const float* cp = s ? a.c_all + (s - 1) * H : (a.c0 ? a.c0 : zeros);
      NNF_CUDA_TRY(sgemm(false, false, N, GH, H, 1.f, hp, ldh, a.recurrent, GH, 1.f, gt, T * GH,
                         nullptr, Act::Linear, prec, st));
      lstm_fwd<<<grid, kThreads, 0, st>>>(gt, T * GH, hp, ldh, cp, a.c_all + s * H, hn, T * H,
                                          a.mask, N, T, t, H);
    } else if (after) {
      NNF_CUDA_TRY(sgemm(false, false, N, GH, H, 1.f, hp, ldh, a.recurrent, GH, 0.f, rec, GH,
                         b_rec, Act::Linear, prec, st));
      gru_after_fwd<<<grid, kThreads, 0, st>>>(gt, T * GH, rec, hp, ldh, a.aux + t * H, hn,
                                               T * H, a.mask, N, T, t, H);
    } else {
      float* rh = a.aux + t * H;  // row stride T*H
      NNF_CUDA_TRY(sgemm(false, false, N, 2 * H, H, 1.f, hp, ldh, a.recurrent, GH, 1.f, gt,
                         T * GH, nullptr, Act::Linear, prec, st));
      gru_before_zr<<<grid, kThreads, 0, st>>>(gt, T * GH, hp, ldh, rh, T * H, N, H);
      NNF_CUDA_TRY(sgemm(false, false, N, H, H, 1.f, rh, T * H, a.recurrent + 2 * H, GH, 1.f,
                         gt + 2 * H, T * GH, nullptr, Act::Linear, prec, st));
      gru_before_h<<<grid, kThreads, 0, st>>>(gt, T * GH, hp, ldh, hn, T * H, a.mask, N, T, t,
                                              H);
    }
    NNF_CUDA_TRY(last_error());
  }
  // 3. Outputs by Keras's mask rule.
  write_outputs<<<grid, kThreads, 0, st>>>(a.h_all, a.y_seq, a.y_last, a.mask, a.go_backwards,
                                           a.zero_output_for_mask, N, T, H);
  return last_error();
}

size_t rnn_backward_workspace_bytes(const RnnForwardArgs& a, bool with_bias) {
  const Dims d = dims_of(a);
  const int64_t NT = d.N * d.T;
  const bool after = a.cell == RnnCell::GRU && a.reset_after;
  size_t bytes = up(NT * d.GH * sizeof(float)) * (after ? 2 : 1) + up(NT * d.H * sizeof(float)) +
                 6 * up(d.N * d.H * sizeof(float));
  if (with_bias) bytes += up(bias_grad_workspace_bytes(NT, d.GH));
  return bytes;
}

cudaError_t rnn_backward(const RnnBackwardArgs& b, Precision prec, void* ws, size_t ws_bytes,
                         cudaStream_t st) {
  const RnnForwardArgs& a = b.fwd;
  const Dims d = dims_of(a);
  const int64_t N = d.N, T = d.T, D = d.D, H = d.H, GH = d.GH, NT = N * T;
  const bool lstm = a.cell == RnnCell::LSTM;
  const bool after = !lstm && a.reset_after;
  const int64_t nbias = after ? 2 * GH : GH;
  if (NT <= 0) {
    NNF_CUDA_TRY(cudaMemsetAsync(b.dkernel, 0, sizeof(float) * D * GH, st));
    NNF_CUDA_TRY(cudaMemsetAsync(b.drecurrent, 0, sizeof(float) * H * GH, st));
    if (b.dbias) NNF_CUDA_TRY(cudaMemsetAsync(b.dbias, 0, sizeof(float) * nbias, st));
    if (b.dh0) NNF_CUDA_TRY(cudaMemsetAsync(b.dh0, 0, sizeof(float) * N * H, st));
    if (b.dc0) NNF_CUDA_TRY(cudaMemsetAsync(b.dc0, 0, sizeof(float) * N * H, st));
    return cudaSuccess;
  }
  if (ws_bytes < rnn_backward_workspace_bytes(a, b.dbias != nullptr)) return cudaErrorInvalidValue;
  Carver w{static_cast<char*>(ws)};
  float* dZ = w.take(NT * GH);  // by time, (N, T, GH)
  float* dZr = after ? w.take(NT * GH) : nullptr;
  float* Hp = w.take(NT * H);   // h_{s-1} by time
  float* dh = w.take(N * H);
  float* dc = w.take(N * H);
  float* carry = w.take(N * H);
  float* dhn = w.take(N * H);
  float* tmp = w.take(N * H);
  float* zeros = w.take(N * H);
  const unsigned grid = grid_for(N * H);
  NNF_CUDA_TRY(cudaMemsetAsync(zeros, 0, sizeof(float) * N * H, st));
  NNF_CUDA_TRY(cudaMemsetAsync(carry, 0, sizeof(float) * N * H, st));
  copy_rows<<<grid, kThreads, 0, st>>>(dh, b.dh_T, H, N, H);
  copy_rows<<<grid, kThreads, 0, st>>>(dc, lstm ? b.dc_T : nullptr, H, N, H);
  NNF_CUDA_TRY(last_error());

  for (int64_t s = T - 1; s >= 0; --s) {
    const int64_t t = time_of(a, s);
    const float* hp = s ? a.h_all + (s - 1) * H : (a.h0 ? a.h0 : zeros);
    const int64_t ldh = s ? T * H : H;
    const float* gt = a.gates + t * GH;
    float* dzt = dZ + t * GH;  // row stride T*GH
    bwd_step_in<<<grid, kThreads, 0, st>>>(hp, ldh, Hp + t * H, T * H,
                                           b.dy_seq ? b.dy_seq + s * H : nullptr,
                                           s == T - 1 ? b.dy_last : nullptr, dh, carry, dhn,
                                           a.mask, a.zero_output_for_mask, N, T, t, H);
    if (lstm) {
      const float* cp = s ? a.c_all + (s - 1) * H : (a.c0 ? a.c0 : zeros);
      lstm_bwd<<<grid, kThreads, 0, st>>>(gt, T * GH, cp, ldh, a.c_all + s * H, T * H, dhn, dc,
                                          dzt, a.mask, N, T, t, H);
      NNF_CUDA_TRY(sgemm(false, true, N, H, GH, 1.f, dzt, T * GH, a.recurrent, GH, 0.f, tmp, H,
                         nullptr, Act::Linear, prec, st));
    } else if (after) {
      float* dzr = dZr + t * GH;
      gru_after_bwd<<<grid, kThreads, 0, st>>>(gt, T * GH, a.aux + t * H, T * H, hp, ldh, dhn,
                                               dzt, dzr, tmp, a.mask, N, T, t, H);
      NNF_CUDA_TRY(sgemm(false, true, N, H, GH, 1.f, dzr, T * GH, a.recurrent, GH, 1.f, tmp, H,
                         nullptr, Act::Linear, prec, st));
    } else {
      gru_before_bwd_h<<<grid, kThreads, 0, st>>>(gt, T * GH, hp, ldh, dhn, dzt, a.mask, N, T,
                                                  t, H);
      // d(r * h_prev) = d(cand pre-activation) @ U_h^T  (into dc, free for the GRU)
      NNF_CUDA_TRY(sgemm(false, true, N, H, H, 1.f, dzt + 2 * H, T * GH, a.recurrent + 2 * H, GH,
                         0.f, dc, H, nullptr, Act::Linear, prec, st));
      gru_before_bwd_r<<<grid, kThreads, 0, st>>>(gt, T * GH, hp, ldh, dhn, dc, dzt, tmp, a.mask,
                                                  N, T, t, H);
      NNF_CUDA_TRY(sgemm(false, true, N, H, 2 * H, 1.f, dzt, T * GH, a.recurrent, GH, 1.f, tmp,
                         H, nullptr, Act::Linear, prec, st));
    }
    bwd_step_out<<<grid, kThreads, 0, st>>>(tmp, dh, a.mask, N, T, t, H);
    NNF_CUDA_TRY(last_error());
  }
  if (b.dh0) NNF_CUDA_TRY(cudaMemcpyAsync(b.dh0, dh, sizeof(float) * N * H,
                                          cudaMemcpyDeviceToDevice, st));
  if (b.dc0) {
    if (lstm)
      NNF_CUDA_TRY(cudaMemcpyAsync(b.dc0, dc, sizeof(float) * N * H, cudaMemcpyDeviceToDevice,
                                   st));
    else
      NNF_CUDA_TRY(cudaMemsetAsync(b.dc0, 0, sizeof(float) * N * H, st));
  }

  // Weight and input gradients over all steps at once (as the CPU: the same GEMMs).
  NNF_CUDA_TRY(sgemm(true, false, D, GH, NT, 1.f, a.x, D, dZ, GH, 0.f, b.dkernel, GH, nullptr,
                     Act::Linear, prec, st));
  if (b.dx)
    NNF_CUDA_TRY(sgemm(false, true, NT, D, GH, 1.f, dZ, GH, a.kernel, GH, 0.f, b.dx, D, nullptr,
                       Act::Linear, prec, st));
  if (lstm) {
    NNF_CUDA_TRY(sgemm(true, false, H, GH, NT, 1.f, Hp, H, dZ, GH, 0.f, b.drecurrent, GH,
                       nullptr, Act::Linear, prec, st));
  } else if (after) {
    NNF_CUDA_TRY(sgemm(true, false, H, GH, NT, 1.f, Hp, H, dZr, GH, 0.f, b.drecurrent, GH,
                       nullptr, Act::Linear, prec, st));
  } else {
    NNF_CUDA_TRY(sgemm(true, false, H, 2 * H, NT, 1.f, Hp, H, dZ, GH, 0.f, b.drecurrent, GH,
                       nullptr, Act::Linear, prec, st));
    NNF_CUDA_TRY(sgemm(true, false, H, H, NT, 1.f, a.aux, H, dZ + 2 * H, GH, 0.f,
                       b.drecurrent + 2 * H, GH, nullptr, Act::Linear, prec, st));
  }
  if (b.dbias) {
    const size_t bg = bias_grad_workspace_bytes(NT, GH);
    void* bws = static_cast<char*>(ws) + w.used;
    NNF_CUDA_TRY(bias_grad(dZ, b.dbias, NT, GH, bws, bg, st));
    if (after) NNF_CUDA_TRY(bias_grad(dZr, b.dbias + GH, NT, GH, bws, bg, st));
  }
  return cudaSuccess;
}

}  // namespace cuda
}  // namespace nnforge
