// Whole-sequence LSTM / GRU forward and backward-through-time (see rnn.h).
//
// The per-step recurrent product (rows x H) @ (H x G*H) is small (batch 32, H 64: 0.5 MFMA), so
// it calls the GEMM's register-blocked micro-kernels directly on a recurrent kernel packed once
// per call (repacking U every step, as a plain sgemm call would, costs as much as the product).
// Threads split the batch rows: each thread runs its rows through the whole sequence with no
// barrier per step. Gate arithmetic is vectorised (GCC target_clones: AVX-512, AVX2, baseline),
// with the same exp/sigmoid/tanh formulas as the activation kernels (activation.cpp), so the
// fused path rounds like the step-by-step one.
//
// Where the CPU has AVX-512, LSTM and GRU (reset_after) steps instead run rnn_kernels.h's fused
// step: one register-tiled product [x_t | h] @ [W; U] (LSTM; GRU inference) or h @ U (GRU
// training, after the input GEMM) with the gate arithmetic applied to the tile in registers;
// results within 1-2 ulp of the portable path here (which other CPUs, NNFORGE_ISA=avx2 and GRU
// reset_after=False use).
#include "nnforge/rnn.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "elementwise.h"
#include "fast_math.h"
#include "gemm_kernels.h"
#include "nnforge/activation.h"
#include "nnforge/common.h"
#include "nnforge/gemm.h"
#include "rnn_kernels.h"

namespace nnforge {
namespace {

using detail::Epilogue;
using detail::KernelSet;

const KernelSet& kernels() {
  static const KernelSet* ks = [] {
    const char* isa = cpu_isa();
    if (std::strcmp(isa, "avx512") == 0) return &detail::kernels_avx512();
    if (std::strcmp(isa, "avx2") == 0) return &detail::kernels_avx2();
    return &detail::kernels_generic();
  }();
  return *ks;
}

// The fused LSTM step for this CPU (rnn_kernels.h), or null: then the portable path below.
const detail::LstmKernels* lstm_kernels() {
  static const detail::LstmKernels* lk = [] {
    return std::strcmp(cpu_isa(), "avx512") == 0 ? detail::lstm_kernels_avx512() : nullptr;
  }();
  return lk;
}

const detail::GruKernels* gru_kernels() {
  static const detail::GruKernels* gk = [] {
    return std::strcmp(cpu_isa(), "avx512") == 0 ? detail::gru_kernels_avx512() : nullptr;
  }();
  return gk;
}

// A 64-byte aligned float buffer (over-allocated by 16 floats).
struct AlignedBuf {
  std::vector<float> buf;
  float* get(int64_t n) {
    buf.assign(static_cast<size_t>(n + 16), 0.f);
    float* p = buf.data();
    while (reinterpret_cast<uintptr_t>(p) % 64) ++p;
    return p;
  }
};

// A fused step's weights and bias, packed once per call for the kernels of this CPU (lk for an
// LSTM, gk for a GRU with reset_after; both null: no fused step, wu stays null). The step takes
// x_t itself ([W; U], K = D + H) except in the GRU's training forward, whose gates already hold
// x_t W + b_in (U alone, the training bias layout).
struct FusedWeights {
  AlignedBuf wbuf, bbuf;
  const float* wu = nullptr;
  const float* bias = nullptr;
  FusedWeights(const detail::LstmKernels* lk, const detail::GruKernels* gk,
               const RnnForwardArgs& a, bool train) {
    const int64_t D = a.D, H = a.H;
    if (lk) {
      float* p = wbuf.get(lk->packed_size(D + H, H));
      lk->pack(a.kernel, D, a.recurrent, H, p);
      wu = p;
      if (a.bias) {
        float* pb = bbuf.get(lk->bias_size(H));
        lk->pack_bias(a.bias, H, pb);
        bias = pb;
      }
    } else if (gk) {
      const int64_t Dx = train ? 0 : D;
      float* p = wbuf.get(gk->packed_size(Dx + H, H));
      gk->pack(train ? nullptr : a.kernel, Dx, a.recurrent, H, p);
      wu = p;
      float* pb = bbuf.get(gk->bias_size(H));
      gk->pack_bias(a.bias, H, train, pb);
      bias = pb;
    }
  }
};

// ---- float math: activation.cpp's formulas (fast_math.h), so both paths round alike -------

using detail::fast_exp;
using detail::fast_sigmoid;
using detail::fast_tanh;

// ---- gate arithmetic, one row of H units --------------------------------------------------------

// z: pre-activations (i, f, c, o) in, activations (i, f, g, o) out; c = f*cp + i*g; h = o*tanh(c).
NNF_CLONES void lstm_fwd_row(float* __restrict z, const float* __restrict cp,
                             float* __restrict c, float* __restrict h, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float i = fast_sigmoid(z[j]), f = fast_sigmoid(z[H + j]);
    const float g = fast_tanh(z[2 * H + j]), o = fast_sigmoid(z[3 * H + j]);
    z[j] = i;
    z[H + j] = f;
    z[2 * H + j] = g;
    z[3 * H + j] = o;
    const float cn = f * cp[j] + i * g;
    c[j] = cn;
    h[j] = o * fast_tanh(cn);
  }
}

// dh: gradient of h_new; dc in: gradient of c from later steps, out: gradient of c_prev.
NNF_CLONES void lstm_bwd_row(const float* __restrict a, const float* __restrict cp,
                             const float* __restrict cn, const float* __restrict dh,
                             float* __restrict dc, float* __restrict dz, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
    const float tc = fast_tanh(cn[j]);
    const float dct = dc[j] + dh[j] * o * (1.0f - tc * tc);
    dz[j] = dct * g * (i * (1.0f - i));
    dz[H + j] = dct * cp[j] * (f * (1.0f - f));
    dz[2 * H + j] = dct * i * (1.0f - g * g);
    dz[3 * H + j] = dh[j] * tc * (o * (1.0f - o));
    dc[j] = dct * f;
  }
}

// GRU reset_after: g = x-part (z, r, h) in, activations (z, r, cand) out; rec = h_prev U + b_rec.
NNF_CLONES void gru_after_fwd_row(float* __restrict g, const float* __restrict rec,
                                  const float* __restrict hp, float* __restrict hh_out,
                                  float* __restrict h, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float z = fast_sigmoid(g[j] + rec[j]);
    const float r = fast_sigmoid(g[H + j] + rec[H + j]);
    const float hh = rec[2 * H + j];
    const float cand = fast_tanh(g[2 * H + j] + r * hh);
    g[j] = z;
    g[H + j] = r;
    g[2 * H + j] = cand;
    hh_out[j] = hh;
    h[j] = z * hp[j] + (1.0f - z) * cand;
  }
}

// Returns in dzx the input-side pre-activation gradients and in dzr the recurrent-side ones;
// dhp = dh * z (the direct path to h_prev; the recurrent product is added by the caller).
NNF_CLONES void gru_after_bwd_row(const float* __restrict a, const float* __restrict hh,
                                  const float* __restrict hp, const float* __restrict dh,
                                  float* __restrict dzx, float* __restrict dzr,
                                  float* __restrict dhp, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float z = a[j], r = a[H + j], cand = a[2 * H + j];
    const float dah = dh[j] * (1.0f - z) * (1.0f - cand * cand);
    const float daz = dh[j] * (hp[j] - cand) * (z * (1.0f - z));
    const float dar = dah * hh[j] * (r * (1.0f - r));
    dzx[j] = daz;
    dzx[H + j] = dar;
    dzx[2 * H + j] = dah;
    dzr[j] = daz;
    dzr[H + j] = dar;
    dzr[2 * H + j] = dah * r;
    dhp[j] = dh[j] * z;
  }
}

// GRU reset_after=False, phase 1: z, r from g[0:2H] (x-part + h_prev U_zr, in place); rh = r*h_prev.
NNF_CLONES void gru_before_fwd_zr(float* __restrict g, const float* __restrict hp,
                                  float* __restrict rh, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float z = fast_sigmoid(g[j]), r = fast_sigmoid(g[H + j]);
    g[j] = z;
    g[H + j] = r;
    rh[j] = r * hp[j];
  }
}

// Phase 2: cand = tanh(g[2H:3H]) (x-part + (r*h_prev) U_h), h = z*h_prev + (1-z)*cand.
NNF_CLONES void gru_before_fwd_h(float* __restrict g, const float* __restrict hp,
                                 float* __restrict h, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float z = g[j];
    const float cand = fast_tanh(g[2 * H + j]);
    g[2 * H + j] = cand;
    h[j] = z * hp[j] + (1.0f - z) * cand;
  }
}

// Backward phase 1: dzx[2H:3H] = d(candidate pre-activation); dzx[0:H] = d(z pre-activation).
NNF_CLONES void gru_before_bwd_h(const float* __restrict a, const float* __restrict hp,
                                 const float* __restrict dh, float* __restrict dzx,
                                 int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float z = a[j], cand = a[2 * H + j];
    dzx[2 * H + j] = dh[j] * (1.0f - z) * (1.0f - cand * cand);
    dzx[j] = dh[j] * (hp[j] - cand) * (z * (1.0f - z));
  }
}

// Phase 2, given drh = d(r*h_prev): dzx[H:2H] = d(r pre-activation); dhp = dh*z + drh*r.
NNF_CLONES void gru_before_bwd_r(const float* __restrict a, const float* __restrict hp,
                                 const float* __restrict dh, const float* __restrict drh,
                                 float* __restrict dzx, float* __restrict dhp, int64_t H) {
  for (int64_t j = 0; j < H; ++j) {
    const float z = a[j], r = a[H + j];
    dzx[H + j] = drh[j] * hp[j] * (r * (1.0f - r));
    dhp[j] = dh[j] * z + drh[j] * r;
  }
}

NNF_CLONES void add_rows(float* __restrict y, const float* __restrict a,
                         const float* __restrict b, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] = a[j] + b[j];
}

NNF_CLONES void acc_row(float* __restrict y, const float* __restrict b, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] += b[j];
}

// ---- small GEMM on a pre-packed B ---------------------------------------------------------------

// B (K x Ncols), element (k, j) = src[k*sk + j*sj], packed as the micro-kernels read it:
// panels of NR columns (the last one rounded up to whole vectors, zero padded), each k-major.
// Panel starting at column jr begins at dst + jr*K.
struct PackedB {
  std::vector<float> buf;  // over-allocated by 16 floats for 64-byte alignment
  float* p = nullptr;
  int64_t K = 0, N = 0;
};

void pack_b(const KernelSet& ks, PackedB& pb, int64_t K, int64_t N, const float* src, int64_t sk,
            int64_t sj) {
  const int NR = ks.NV * ks.VL;
  const int64_t padded = (N + NR - 1) / NR * NR;
  pb.buf.assign(static_cast<size_t>(K * padded + 16), 0.f);
  float* base = pb.buf.data();
  while (reinterpret_cast<uintptr_t>(base) % 64) ++base;
  pb.p = base;
  pb.K = K;
  pb.N = N;
  for (int64_t jr = 0; jr < N; jr += NR) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, N - jr));
    const int w = (nr + ks.VL - 1) / ks.VL * ks.VL;
    float* d = base + jr * K;
    for (int64_t k = 0; k < K; ++k)
      for (int c = 0; c < nr; ++c) d[k * w + c] = src[k * sk + (jr + c) * sj];
  }
}

// C[rows, N] = A[rows, K] @ B + beta*C (+ bias), A row-major with stride lda. abuf: scratch of
// MR*min(K,KC) floats (used when the ISA has no direct-A kernel).
void small_gemm(const KernelSet& ks, int64_t rows, const float* A, int64_t lda, const PackedB& B,
                float* C, int64_t ldc, float beta, const float* bias, float* abuf) {
  const int MR = ks.MR, NR = ks.NV * ks.VL, VL = ks.VL;
  const int64_t K = B.K, N = B.N;
  if (rows <= 0 || N <= 0) return;
  const bool direct = ks.ukr_direct[0][0] != nullptr;
  const int64_t npanels = (rows + MR - 1) / MR;
  for (int64_t q = 0; q < npanels; ++q) {
    const int64_t i = rows * q / npanels;
    const int mr = static_cast<int>(rows * (q + 1) / npanels - i);
    for (int64_t k0 = 0; k0 < K || k0 == 0; k0 += ks.KC) {
      const int64_t kc = std::min<int64_t>(ks.KC, K - k0);
      Epilogue ep;
      ep.alpha = 1.f;
      ep.beta = k0 == 0 ? beta : 1.f;
      ep.act = 0;
      ep.last = k0 + kc >= K;
      ep.bias = nullptr;
      const float* a_in = A + i * lda + k0;
      if (!direct) {
        for (int r = 0; r < mr; ++r)
          for (int64_t k = 0; k < kc; ++k) abuf[k * mr + r] = a_in[r * lda + k];
      }
      for (int64_t jr = 0; jr < N; jr += NR) {
        const int nr = static_cast<int>(std::min<int64_t>(NR, N - jr));
        const int nv = (nr + VL - 1) / VL;
        const int w = nv * VL;
        ep.bias = bias ? bias + jr : nullptr;
        const float* bp = B.p + jr * K + k0 * w;
        float* c = C + i * ldc + jr;
        if (direct)
          ks.ukr_direct[mr - 1][nv - 1](kc, a_in, lda, bp, c, ldc, nr, ep);
        else
          ks.ukr[mr - 1][nv - 1](kc, abuf, bp, c, ldc, nr, ep);
      }
      if (K == 0) break;
    }
  }
}

// ---- scratch --------------------------------------------------------------------------------------

// Grow-only, 64-byte aligned, per calling thread (no allocation per call once warm).
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(p); }
  float* get(size_t n) {
    if (n > cap) {
      std::free(p);
      p = nullptr;
      cap = 0;
      const size_t bytes = ((std::max<size_t>(n, 1) * sizeof(float) + 63) / 64) * 64;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) throw std::bad_alloc();
      cap = bytes / sizeof(float);
    }
    return p;
  }
};
thread_local Scratch tl_work, tl_dz, tl_dzr, tl_hprev;

// 16-float (64-byte) rounding for per-thread slices of one scratch block.
inline int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

// Threads for a batch of N rows: at least kMinRows rows each (fewer rows per thread lose more
// to the micro-kernel's short row panels than the extra core gains).
constexpr int64_t kMinRows = 4;
int rnn_threads(int64_t N) {
  int nt = get_num_threads();
  if (omp_in_parallel()) nt = 1;
  const int64_t by_rows = std::max<int64_t>(1, N / kMinRows);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(nt, by_rows)));
}

// Runs body(n0, n1, chunk) for nt near-equal row chunks of [0, N), chunk c on any thread.
template <class Fn>
void for_row_chunks(int64_t N, int nt, Fn body) {
  if (nt <= 1) {
    body(int64_t(0), N, 0);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    const int got = omp_get_num_threads();
    for (int c = omp_get_thread_num(); c < nt; c += got) body(N * c / nt, N * (c + 1) / nt, c);
  }
}

// A fused step's common fields (rnn_kernels.h's StepIO).
detail::StepIO step_io(int64_t D, int64_t H, const float* x, int64_t ldx, const float* h,
                       int64_t ldh, float* hn, int64_t ldo, float* gates, int64_t ldg,
                       const float* packed, const float* bias) {
  return detail::StepIO{D, H, x, ldx, h, ldh, hn, ldo, gates, ldg, packed, bias};
}

struct Geo {
  int64_t N, T, D, H, G, GH;
};

Geo geometry(const RnnForwardArgs& a) {
  Geo g{a.N, a.T, a.D, a.H, a.cell == RnnCell::LSTM ? 4 : 3, 0};
  g.GH = g.G * g.H;
  return g;
}

inline int64_t time_of(const RnnForwardArgs& a, int64_t s) {
  return a.go_backwards ? a.T - 1 - s : s;
}

// The recurrent kernel, packed once per call: LSTM / GRU reset_after: all G*H columns in U1;
// GRU reset_after=False: the z, r columns in U1 and the h columns in U2.
void pack_recurrent(const KernelSet& ks, const RnnForwardArgs& a, int64_t H, int64_t GH,
                    PackedB& U1, PackedB& U2) {
  if (a.cell == RnnCell::GRU && !a.reset_after) {
    pack_b(ks, U1, H, 2 * H, a.recurrent, GH, 1);
    pack_b(ks, U2, H, H, a.recurrent + 2 * H, GH, 1);
  } else {
    pack_b(ks, U1, H, GH, a.recurrent, GH, 1);
  }
}

// The output sequence / last output from the state sequence and the mask (Keras's rule).
void write_outputs(const RnnForwardArgs& a, const Geo& g, int64_t n0, int64_t n1) {
  const int64_t T = g.T, H = g.H;
  for (int64_t n = n0; n < n1; ++n) {
    const float* hs = a.h_all + n * T * H;
    float* ys = a.y_seq ? a.y_seq + n * T * H : nullptr;
    float* yl = a.y_last + n * H;
    if (!a.mask) {
      if (ys) std::memcpy(ys, hs, sizeof(float) * T * H);
      std::memcpy(yl, hs + (T - 1) * H, sizeof(float) * H);
      continue;
    }
    bool seen = false;  // an unmasked step so far
    for (int64_t s = 0; s < T; ++s) {
      const bool m = a.mask[n * T + time_of(a, s)] != 0;
      seen = seen || m;
      if (ys) {
        float* y = ys + s * H;
        if (m)
          std::memcpy(y, hs + s * H, sizeof(float) * H);
        else if (a.zero_output_for_mask || s == 0)
          std::fill(y, y + H, 0.f);
        else
          std::memcpy(y, y - H, sizeof(float) * H);
      }
    }
    const bool last_m = a.mask[n * T + time_of(a, T - 1)] != 0;
    const bool keep = a.zero_output_for_mask ? last_m : seen;
    if (keep)
      std::memcpy(yl, hs + (T - 1) * H, sizeof(float) * H);
    else
      std::fill(yl, yl + H, 0.f);
  }
}

// The backward reads and writes every row of its chunk at each step, one row of each saved
// sequence per batch row (100 KiB apart for T = 100, G*H = 256): 16 rows x (4 gate segments, c,
// h, x, dz, h_{s-1}) are far more streams than the hardware prefetchers follow, so each step
// waited on memory. The loop instead prefetches, kPrefetchSteps ahead, the lines step s will
// touch: its saved gates, states, input and aux rows, and (for writing) its dz and Hp rows.
constexpr int64_t kPrefetchSteps = 2;

inline void prefetch_lines(const void* p, int64_t bytes, bool write) {
  const char* c = static_cast<const char*>(p);
  for (int64_t o = 0; o < bytes; o += 64) {
    if (write) __builtin_prefetch(c + o, 1, 3);
    else __builtin_prefetch(c + o, 0, 3);
  }
}

void prefetch_backward_step(const RnnForwardArgs& a, const RnnBackwardArgs& b, const Geo& g,
                            int64_t n0, int64_t rows, int64_t s, const float* dZ,
                            const float* dZr, const float* Hp, int64_t ldp) {
  const int64_t T = g.T, D = g.D, H = g.H, GH = g.GH;
  const int64_t t = time_of(a, s);
  const int64_t f = sizeof(float);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = n0 + r, nt = n * T + t, ns = n * T + s;
    prefetch_lines(a.gates + nt * GH, GH * f, false);
    prefetch_lines(dZ + nt * GH, GH * f, true);
    if (dZr) prefetch_lines(dZr + nt * GH, GH * f, true);
    prefetch_lines(Hp + nt * ldp, ldp * f, true);
    if (ldp > H) prefetch_lines(a.x + nt * D, D * f, false);
    if (a.c_all) {
      prefetch_lines(a.c_all + ns * H, H * f, false);
      if (s) prefetch_lines(a.c_all + (ns - 1) * H, H * f, false);
    }
    if (s) prefetch_lines(a.h_all + (ns - 1) * H, H * f, false);
    if (a.aux) prefetch_lines(a.aux + nt * H, H * f, false);
    if (b.dy_seq) prefetch_lines(b.dy_seq + ns * H, H * f, false);
  }
}

}  // namespace

// =================================================================================================
// Forward
// =================================================================================================

void rnn_forward(const RnnForwardArgs& a) {
  const Geo g = geometry(a);
  const int64_t N = g.N, T = g.T, D = g.D, H = g.H, GH = g.GH;
  if (N <= 0 || T <= 0) return;
  const KernelSet& ks = kernels();
  const bool lstm = a.cell == RnnCell::LSTM;
  const bool after = !lstm && a.reset_after;
  const float* b_in = a.bias;
  const float* b_rec = after && a.bias ? a.bias + GH : nullptr;

  const detail::LstmKernels* lk = lstm ? lstm_kernels() : nullptr;
  const detail::GruKernels* gk = after ? gru_kernels() : nullptr;

  // 1. Input projections of every step: one GEMM over N*T rows, input bias fused. The fused
  // LSTM step instead computes [x_t | h_{s-1}] @ [W; U] + b itself (as inference does): the
  // pre-activations never go through memory, and the step's product has K = D + H.
  if (!lk)
    sgemm_bias_act(false, false, N * T, GH, D, a.x, D, a.kernel, GH, b_in, Act::Linear,
                   a.gates, GH);

  // 2. The recurrent kernel (with the fused LSTM step: [W; U] and the bias), packed once (for
  // the fused LSTM / GRU reset_after step where the CPU has one).
  PackedB U1, U2;
  const FusedWeights fw(lk, gk, a, true);
  const float* fused_u = fw.wu;
  const float* fused_bias = fw.bias;
  if (!lk && !gk) pack_recurrent(ks, a, H, GH, U1, U2);

  const int nt = rnn_threads(N);
  const int64_t rows_max = (N + nt - 1) / nt;
  // Per chunk: zeros (rows x H) for missing initial states, rec (rows x GH), abuf.
  const int64_t abuf_n = round16(int64_t(ks.MR) * std::min<int64_t>(ks.KC, std::max(GH, H)));
  const int64_t per = round16(rows_max * H) + round16(rows_max * GH) + abuf_n;
  float* work = tl_work.get(static_cast<size_t>(per * nt));
  std::memset(work, 0, sizeof(float) * per * nt);

  for_row_chunks(N, nt, [&](int64_t n0, int64_t n1, int c) {
    const int64_t rows = n1 - n0;
    float* zeros = work + per * c;
    float* rec = zeros + round16(rows_max * H);
    float* abuf = rec + round16(rows_max * GH);
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = time_of(a, s);
      // h_{s-1} of these rows and its row stride; c_{s-1} likewise.
      const float* hp = s ? a.h_all + n0 * T * H + (s - 1) * H : (a.h0 ? a.h0 + n0 * H : zeros);
      const int64_t ldh = s ? T * H : H;
      const float* cp = nullptr;
      if (lstm) cp = s ? a.c_all + n0 * T * H + (s - 1) * H : (a.c0 ? a.c0 + n0 * H : zeros);
      float* gt = a.gates + (n0 * T + t) * GH;  // row stride T*GH
      if (lstm) {
        if (lk) {  // [x_t | h_{s-1}] @ [W; U] + b, the gate arithmetic, c_s, h_s in one pass
          detail::LstmStep st(step_io(D, H, a.x + (n0 * T + t) * D, T * D, hp, ldh,
                                      a.h_all + (n0 * T + s) * H, T * H, gt, T * GH, fused_u,
                                      fused_bias));
          st.cp = cp;
          st.ldcp = ldh;
          st.cn = a.c_all + (n0 * T + s) * H;
          lk->step(st, rows);
        } else {
          small_gemm(ks, rows, hp, ldh, U1, gt, T * GH, 1.f, nullptr, abuf);
        }
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          float* hn = a.h_all + (n * T + s) * H;
          float* cn = a.c_all + (n * T + s) * H;
          if (!lk) lstm_fwd_row(gt + r * T * GH, cp + r * ldh, cn, hn, H);
          if (a.mask && !a.mask[n * T + t]) {
            std::memcpy(hn, hp + r * ldh, sizeof(float) * H);
            std::memcpy(cn, cp + r * ldh, sizeof(float) * H);
          }
        }
      } else if (after) {
        if (gk) {  // h_{s-1} U + b_rec, the gate arithmetic and h_s in one pass
          detail::GruStep st(step_io(0, H, nullptr, 0, hp, ldh, a.h_all + (n0 * T + s) * H,
                                     T * H, gt, T * GH, fused_u, fused_bias));
          st.aux = a.aux + (n0 * T + t) * H;
          st.ldaux = T * H;
          gk->step(st, rows);
        } else {
          small_gemm(ks, rows, hp, ldh, U1, rec, GH, 0.f, b_rec, abuf);
        }
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          float* hn = a.h_all + (n * T + s) * H;
          if (!gk)
            gru_after_fwd_row(gt + r * T * GH, rec + r * GH, hp + r * ldh,
                              a.aux + (n * T + t) * H, hn, H);
          if (a.mask && !a.mask[n * T + t]) std::memcpy(hn, hp + r * ldh, sizeof(float) * H);
        }
      } else {  // GRU reset_after=False
        small_gemm(ks, rows, hp, ldh, U1, gt, T * GH, 1.f, nullptr, abuf);
        float* rh = a.aux + (n0 * T + t) * H;  // row stride T*H
        for (int64_t r = 0; r < rows; ++r)
          gru_before_fwd_zr(gt + r * T * GH, hp + r * ldh, rh + r * T * H, H);
        small_gemm(ks, rows, rh, T * H, U2, gt + 2 * H, T * GH, 1.f, nullptr, abuf);
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          float* hn = a.h_all + (n * T + s) * H;
          gru_before_fwd_h(gt + r * T * GH, hp + r * ldh, hn, H);
          if (a.mask && !a.mask[n * T + t]) std::memcpy(hn, hp + r * ldh, sizeof(float) * H);
        }
      }
    }
    write_outputs(a, g, n0, n1);
  });
}

// =================================================================================================
// Inference
// =================================================================================================

// Nothing is kept for a backward pass, so each thread's rows run the whole sequence in its own
// cache: per step, x_t @ W + b (W packed once, A read in place with row stride T*D) and h @ U go
// into ONE step's gates (rows x G*H), then the gate arithmetic and rolling h / c states. The
// training forward instead writes the gates of every step (N, T, G*H) and both state sequences
// (N, T, H), which it must keep for the backward: for batch 256, T 100, H 64 that is 26 MB of
// gates and 13 MB of states streamed through memory. Outputs follow write_outputs()'s rule.
void rnn_infer(const RnnForwardArgs& a) {
  const Geo g = geometry(a);
  const int64_t N = g.N, T = g.T, D = g.D, H = g.H, GH = g.GH;
  if (N <= 0 || T <= 0) return;
  const KernelSet& ks = kernels();
  const bool lstm = a.cell == RnnCell::LSTM;
  const bool after = !lstm && a.reset_after;
  const float* b_in = a.bias;
  const float* b_rec = after && a.bias ? a.bias + GH : nullptr;

  // LSTM / GRU reset_after with a fused step for this CPU: [W; U] and the bias packed once for
  // it; otherwise W and U packed for the small GEMMs.
  const detail::LstmKernels* lk = lstm ? lstm_kernels() : nullptr;
  const detail::GruKernels* gk = after ? gru_kernels() : nullptr;
  PackedB W, U1, U2;
  const FusedWeights fw(lk, gk, a, false);
  const float* fused_wu = fw.wu;
  const float* fused_bias = fw.bias;
  if (!lk && !gk) {
    pack_b(ks, W, D, GH, a.kernel, GH, 1);
    pack_recurrent(ks, a, H, GH, U1, U2);
  }

  const int nt = rnn_threads(N);
  const int64_t rows_max = (N + nt - 1) / nt;
  const int64_t abuf_n =
      round16(int64_t(ks.MR) * std::min<int64_t>(ks.KC, std::max(std::max(GH, H), D)));
  const int64_t rg = round16(rows_max * GH), rh = round16(rows_max * H);
  // Per chunk: gates, rec (GRU reset_after), h and c twice (rolling), aux / r*h, seen, abuf.
  const int64_t per = 2 * rg + 6 * rh + abuf_n;
  float* work = tl_work.get(static_cast<size_t>(per * nt));

  for_row_chunks(N, nt, [&](int64_t n0, int64_t n1, int c) {
    const int64_t rows = n1 - n0;
    float* gt = work + per * c;
    float* rec = gt + rg;
    float* h_cur = rec + rg;
    float* h_nxt = h_cur + rh;
    float* c_cur = h_nxt + rh;
    float* c_nxt = c_cur + rh;
    float* aux = c_nxt + rh;   // GRU: reset_after's recurrent h part / reset_after=False's r*h
    float* seen = aux + rh;    // per row: 1 once an unmasked step has been seen
    float* abuf = seen + rh;
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = n0 + r;
      if (a.h0) std::memcpy(h_cur + r * H, a.h0 + n * H, sizeof(float) * H);
      else std::fill(h_cur + r * H, h_cur + (r + 1) * H, 0.f);
      if (lstm && a.c0) std::memcpy(c_cur + r * H, a.c0 + n * H, sizeof(float) * H);
      else if (lstm) std::fill(c_cur + r * H, c_cur + (r + 1) * H, 0.f);
      seen[r] = 0.f;
    }
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = time_of(a, s);
      const detail::StepIO io = step_io(D, H, a.x + (n0 * T + t) * D, T * D, h_cur, H, h_nxt, H,
                                        nullptr, 0, fused_wu, fused_bias);
      if (lk) {  // [x_t | h_{s-1}] @ [W; U] + b, the gate arithmetic, c_s and h_s in one pass
        detail::LstmStep st(io);
        st.cp = c_cur;
        st.ldcp = H;
        st.cn = c_nxt;
        lk->step(st, rows);
      } else if (gk) {  // the GRU's likewise
        gk->step(detail::GruStep(io), rows);
      } else {
        small_gemm(ks, rows, a.x + (n0 * T + t) * D, T * D, W, gt, GH, 0.f, b_in, abuf);
      }
      if (lk || gk) {
        // the step is done
      } else if (lstm) {
        small_gemm(ks, rows, h_cur, H, U1, gt, GH, 1.f, nullptr, abuf);
        for (int64_t r = 0; r < rows; ++r)
          lstm_fwd_row(gt + r * GH, c_cur + r * H, c_nxt + r * H, h_nxt + r * H, H);
      } else if (after) {
        small_gemm(ks, rows, h_cur, H, U1, rec, GH, 0.f, b_rec, abuf);
        for (int64_t r = 0; r < rows; ++r)
          gru_after_fwd_row(gt + r * GH, rec + r * GH, h_cur + r * H, aux + r * H,
                            h_nxt + r * H, H);
      } else {
        small_gemm(ks, rows, h_cur, H, U1, gt, GH, 1.f, nullptr, abuf);
        for (int64_t r = 0; r < rows; ++r)
          gru_before_fwd_zr(gt + r * GH, h_cur + r * H, aux + r * H, H);
        small_gemm(ks, rows, aux, H, U2, gt + 2 * H, GH, 1.f, nullptr, abuf);
        for (int64_t r = 0; r < rows; ++r)
          gru_before_fwd_h(gt + r * GH, h_cur + r * H, h_nxt + r * H, H);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t n = n0 + r;
        const bool m = !a.mask || a.mask[n * T + t];
        if (!m) {  // a masked step carries the states through
          std::memcpy(h_nxt + r * H, h_cur + r * H, sizeof(float) * H);
          if (lstm) std::memcpy(c_nxt + r * H, c_cur + r * H, sizeof(float) * H);
        }
        if (m) seen[r] = 1.f;
        if (a.y_seq) {
          float* y = a.y_seq + (n * T + s) * H;
          if (m)
            std::memcpy(y, h_nxt + r * H, sizeof(float) * H);
          else if (a.zero_output_for_mask || s == 0)
            std::fill(y, y + H, 0.f);
          else
            std::memcpy(y, y - H, sizeof(float) * H);
        }
      }
      std::swap(h_cur, h_nxt);
      std::swap(c_cur, c_nxt);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = n0 + r;
      bool keep = true;
      if (a.mask) keep = a.zero_output_for_mask ? a.mask[n * T + time_of(a, T - 1)] != 0
                                                : seen[r] != 0.f;
      if (keep) std::memcpy(a.y_last + n * H, h_cur + r * H, sizeof(float) * H);
      else std::fill(a.y_last + n * H, a.y_last + (n + 1) * H, 0.f);
      if (a.h_last) std::memcpy(a.h_last + n * H, h_cur + r * H, sizeof(float) * H);
      if (lstm && a.c_last) std::memcpy(a.c_last + n * H, c_cur + r * H, sizeof(float) * H);
    }
  });
}

// =================================================================================================
// Backward through time
// =================================================================================================

void rnn_backward(const RnnBackwardArgs& b) {
  const RnnForwardArgs& a = b.fwd;
  const Geo g = geometry(a);
  const int64_t N = g.N, T = g.T, D = g.D, H = g.H, GH = g.GH;
  const bool lstm = a.cell == RnnCell::LSTM;
  const bool after = !lstm && a.reset_after;
  const bool before = !lstm && !a.reset_after;
  const int64_t NT = N * T;
  const int64_t nbias = after ? 2 * GH : GH;
  if (NT <= 0) {
    std::fill(b.dkernel, b.dkernel + D * GH, 0.f);
    std::fill(b.drecurrent, b.drecurrent + H * GH, 0.f);
    if (b.dbias) std::fill(b.dbias, b.dbias + nbias, 0.f);
    if (b.dh0) std::fill(b.dh0, b.dh0 + N * H, 0.f);
    if (b.dc0) std::fill(b.dc0, b.dc0 + N * H, 0.f);
    if (b.dx && NT > 0) std::fill(b.dx, b.dx + NT * D, 0.f);
    return;
  }
  const KernelSet& ks = kernels();

  // U^T packed for the dh recurrence: element (k, j) = U[j, k].
  PackedB UT1, UT2;
  if (before) {
    pack_b(ks, UT1, 2 * H, H, a.recurrent, 1, GH);      // (2H x H): U_zr^T
    pack_b(ks, UT2, H, H, a.recurrent + 2 * H, 1, GH);  // (H x H): U_h^T
  } else {
    pack_b(ks, UT1, GH, H, a.recurrent, 1, GH);
  }

  // dZ: input-side pre-activation gradients by time (N, T, GH); dZr: GRU reset_after's
  // recurrent-side ones; Hp: h_{s-1} by time (N, T, H), the left operand of dU, row stride ldp.
  // LSTM: dW, dU and db share dZ, so the rows of Hp are [x_t | h_{s-1} (| 1 with a bias)]
  // (ldp = D + H (+ 1)) and one GEMM gives [dW; dU; db] = XH^T dZ (one pass over dZ instead of
  // three; per element of dW and dU the same k-sum as apart).
  float* dZ = tl_dz.get(static_cast<size_t>(NT * GH));
  float* dZr = after ? tl_dzr.get(static_cast<size_t>(NT * GH)) : nullptr;
  const bool ones = lstm && b.dbias;
  const int64_t ldp = lstm ? D + H + (ones ? 1 : 0) : H, hoff = lstm ? D : 0;
  float* Hp = tl_hprev.get(static_cast<size_t>(NT * ldp));

  const int nt = rnn_threads(N);
  const int64_t rows_max = (N + nt - 1) / nt;
  const int64_t abuf_n = round16(int64_t(ks.MR) * std::min<int64_t>(ks.KC, std::max(GH, H)));
  // Per chunk: dh, dc, carry, dhn, tmp (rows x H each), zeros (rows x H), abuf.
  const int64_t rh = round16(rows_max * H);
  const int64_t per = 6 * rh + abuf_n;
  float* work = tl_work.get(static_cast<size_t>(per * nt));

  for_row_chunks(N, nt, [&](int64_t n0, int64_t n1, int c) {
    const int64_t rows = n1 - n0;
    float* dh = work + per * c;
    float* dc = dh + rh;
    float* carry = dc + rh;  // gradient of the previous output through masked steps
    float* dhn = carry + rh;
    float* tmp = dhn + rh;
    float* zeros = tmp + rh;
    float* abuf = zeros + rh;
    const bool simple = !a.mask && !b.dy_seq;  // no carry, dy only at the last step
    std::fill(zeros, zeros + rh, 0.f);
    std::fill(carry, carry + rh, 0.f);
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = n0 + r;
      if (b.dh_T) std::memcpy(dh + r * H, b.dh_T + n * H, sizeof(float) * H);
      else std::fill(dh + r * H, dh + (r + 1) * H, 0.f);
      if (lstm) {
        if (b.dc_T) std::memcpy(dc + r * H, b.dc_T + n * H, sizeof(float) * H);
        else std::fill(dc + r * H, dc + (r + 1) * H, 0.f);
      }
    }
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = time_of(a, s);
      if (s >= kPrefetchSteps) prefetch_backward_step(a, b, g, n0, rows, s - kPrefetchSteps, dZ, dZr,
                                                      Hp, ldp);
      const float* hp = s ? a.h_all + n0 * T * H + (s - 1) * H : (a.h0 ? a.h0 + n0 * H : zeros);
      const int64_t ldh = s ? T * H : H;
      const float* cp = nullptr;
      if (lstm) cp = s ? a.c_all + n0 * T * H + (s - 1) * H : (a.c0 ? a.c0 + n0 * H : zeros);
      const float* gt = a.gates + (n0 * T + t) * GH;
      float* dzt = dZ + (n0 * T + t) * GH;  // row stride T*GH
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t n = n0 + r;
        std::memcpy(Hp + (n * T + t) * ldp + hoff, hp + r * ldh, sizeof(float) * H);
        if (lstm) std::memcpy(Hp + (n * T + t) * ldp, a.x + (n * T + t) * D, sizeof(float) * D);
        if (ones) Hp[(n * T + t) * ldp + D + H] = 1.f;
      }
      // Gradient reaching h_new at this step (dhs): the state's (dh) plus the output's (dy_seq,
      // dy_last at the last step, and the carry of later masked outputs). Without a mask or an
      // output sequence that is dh itself but at the last step.
      const float* dhs = dhn;
      if (simple) {
        if (s == T - 1 && b.dy_last) {
          for (int64_t r = 0; r < rows; ++r)
            add_rows(dhn + r * H, dh + r * H, b.dy_last + (n0 + r) * H, H);
        } else {
          dhs = dh;
        }
      } else {
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          float* dy = tmp + r * H;
          std::memcpy(dy, carry + r * H, sizeof(float) * H);
          if (b.dy_seq) acc_row(dy, b.dy_seq + (n * T + s) * H, H);
          if (b.dy_last && s == T - 1) acc_row(dy, b.dy_last + n * H, H);
          const bool m = !a.mask || a.mask[n * T + t];
          if (m) {
            add_rows(dhn + r * H, dh + r * H, dy, H);
            std::fill(carry + r * H, carry + (r + 1) * H, 0.f);
          } else {
            std::memcpy(dhn + r * H, zeros, sizeof(float) * H);
            if (a.zero_output_for_mask) std::fill(carry + r * H, carry + (r + 1) * H, 0.f);
            else std::memcpy(carry + r * H, dy, sizeof(float) * H);
          }
        }
      }
      if (lstm) {
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          if (a.mask && !a.mask[n * T + t]) {
            std::fill(dzt + r * T * GH, dzt + r * T * GH + GH, 0.f);
            continue;
          }
          lstm_bwd_row(gt + r * T * GH, cp + r * ldh, a.c_all + (n * T + s) * H, dhs + r * H,
                       dc + r * H, dzt + r * T * GH, H);
        }
        small_gemm(ks, rows, dzt, T * GH, UT1, tmp, H, 0.f, nullptr, abuf);
      } else if (after) {
        float* dzr = dZr + (n0 * T + t) * GH;
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          if (a.mask && !a.mask[n * T + t]) {
            std::fill(dzt + r * T * GH, dzt + r * T * GH + GH, 0.f);
            std::fill(dzr + r * T * GH, dzr + r * T * GH + GH, 0.f);
            std::fill(tmp + r * H, tmp + (r + 1) * H, 0.f);
            continue;
          }
          gru_after_bwd_row(gt + r * T * GH, a.aux + (n * T + t) * H, hp + r * ldh, dhs + r * H,
                            dzt + r * T * GH, dzr + r * T * GH, tmp + r * H, H);
        }
        small_gemm(ks, rows, dzr, T * GH, UT1, tmp, H, 1.f, nullptr, abuf);
      } else {  // reset_after=False
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          if (a.mask && !a.mask[n * T + t]) {
            std::fill(dzt + r * T * GH, dzt + r * T * GH + GH, 0.f);
            continue;
          }
          gru_before_bwd_h(gt + r * T * GH, hp + r * ldh, dhs + r * H, dzt + r * T * GH, H);
        }
        // d(r * h_prev) = d(cand pre-activation) @ U_h^T  (into dc, free for the GRU)
        small_gemm(ks, rows, dzt + 2 * H, T * GH, UT2, dc, H, 0.f, nullptr, abuf);
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          if (a.mask && !a.mask[n * T + t]) {
            std::fill(tmp + r * H, tmp + (r + 1) * H, 0.f);
            continue;
          }
          gru_before_bwd_r(gt + r * T * GH, hp + r * ldh, dhs + r * H, dc + r * H,
                           dzt + r * T * GH, tmp + r * H, H);
        }
        small_gemm(ks, rows, dzt, T * GH, UT1, tmp, H, 1.f, nullptr, abuf);
      }
      // New dh: the recurrent gradient on unmasked rows; carried through on masked ones.
      if (simple) {
        std::swap(dh, tmp);
      } else {
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t n = n0 + r;
          if (!a.mask || a.mask[n * T + t])
            std::memcpy(dh + r * H, tmp + r * H, sizeof(float) * H);
        }
      }
    }
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t n = n0 + r;
      if (b.dh0) std::memcpy(b.dh0 + n * H, dh + r * H, sizeof(float) * H);
      if (lstm && b.dc0) std::memcpy(b.dc0 + n * H, dc + r * H, sizeof(float) * H);
    }
  });
  if (!lstm && b.dc0) std::fill(b.dc0, b.dc0 + N * H, 0.f);

  // Weight and input gradients over all steps at once.
  if (lstm) {  // [dW; dU (; db)] = [X | Hp (| 1)]^T dZ
    float* dwu = tl_work.get(static_cast<size_t>(ldp * GH));
    sgemm(true, false, ldp, GH, NT, 1.f, Hp, ldp, dZ, GH, 0.f, dwu, GH);
    std::memcpy(b.dkernel, dwu, sizeof(float) * D * GH);
    std::memcpy(b.drecurrent, dwu + D * GH, sizeof(float) * H * GH);
    if (ones) std::memcpy(b.dbias, dwu + (D + H) * GH, sizeof(float) * GH);
  } else {
    sgemm(true, false, D, GH, NT, 1.f, a.x, D, dZ, GH, 0.f, b.dkernel, GH);  // dW = X^T dZ
  }
  if (b.dx) sgemm(false, true, NT, D, GH, 1.f, dZ, GH, a.kernel, GH, 0.f, b.dx, D);  // dZ W^T
  if (after) {
    sgemm(true, false, H, GH, NT, 1.f, Hp, H, dZr, GH, 0.f, b.drecurrent, GH);
  } else if (!lstm) {
    sgemm(true, false, H, 2 * H, NT, 1.f, Hp, H, dZ, GH, 0.f, b.drecurrent, GH);
    sgemm(true, false, H, H, NT, 1.f, a.aux, H, dZ + 2 * H, GH, 0.f, b.drecurrent + 2 * H, GH);
  }
  if (b.dbias && !lstm) {
    bias_grad(dZ, b.dbias, NT, GH);
    if (after) bias_grad(dZr, b.dbias + GH, NT, GH);
  }
}

// =================================================================================================
// Embedding lookup and gradient
// =================================================================================================

void embedding_gather(const float* table, int64_t rows, int64_t dim, const int64_t* ids,
                      int64_t n, float* out) {
  (void)rows;
  if (n <= 0 || dim <= 0) return;
  // A row copy per id: the 800 KB of the text bench's batch (3200 ids x 64) in two threads;
  // below 64K floats one thread (a parallel region costs more than the copy).
  const int nt = n * dim >= (1 << 16) && !omp_in_parallel() ? get_num_threads() : 1;
  const size_t bytes = sizeof(float) * static_cast<size_t>(dim);
#pragma omp parallel for num_threads(nt) schedule(static) if (nt > 1)
  for (int64_t i = 0; i < n; ++i) std::memcpy(out + i * dim, table + ids[i] * dim, bytes);
}

void embedding_backward(const int64_t* ids, int64_t n, const float* dy, int64_t dim,
                        float* dtable, int64_t rows) {
  if (rows <= 0 || dim <= 0) return;
  const int64_t total = rows * dim;
  const int nt = total >= (1 << 16) && !omp_in_parallel() ? get_num_threads() : 1;
  // Each thread owns a contiguous range of rows: it zeroes them, then adds the ids that fall in
  // its range, in order of i (deterministic, whatever the thread count; no atomics, no barrier,
  // and every line a thread writes is one it zeroed, in its own cache).
#pragma omp parallel num_threads(nt) if (nt > 1)
  {
    const int got = omp_get_num_threads(), me = omp_get_thread_num();
    const int64_t lo = rows * me / got, hi = rows * (me + 1) / got;
    std::fill(dtable + lo * dim, dtable + hi * dim, 0.f);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t row = ids[i];
      if (row < lo || row >= hi) continue;
      acc_row(dtable + row * dim, dy + i * dim, dim);
    }
  }
}

}  // namespace nnforge
