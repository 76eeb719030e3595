// SGEMM driver: BLIS-style blocking and packing around the run-time-chosen micro-kernels.
//
// Loop nest of one thread over its rectangle of C (run_block):
//   for ib (chunks of MC rows, cut into near-equal micro-panels <= MR)
//     for pc (KC slice of K)         fixed K blocking: depends only on K, never on threads
//       for jb (NC columns)          B block kc x nc: packed by this thread into its buffer (L2)
//         for each A micro-panel     packed on first use (stays in L1), reused for later jb; or,
//                                    for narrow C and row-major A, read in place (direct kernel)
//           for jr (B micro-panel)   micro-kernel: mr x nr tile, K slice in registers; while it
//                                    runs it prefetches a share of the next A micro-panel into
//                                    L2 and the C tile to its right (hides L3/DRAM latency,
//                                    which otherwise costs ~8% when both cores stream)
// The micro-kernel applies alpha/beta and, on the last K slice, bias + activation to the
// accumulators before its single store of the tile (gemm_kernels.h): no second pass over C.
//
// Threads: a tm x tn grid of single-thread rectangles, each packing its own panels (no
// barriers, nothing shared between cores; the grid is chosen by a cost model). The rectangles
// are chunks of the thread pool (thread_pool.h): whichever thread runs takes the next one, so
// on shared cores a rectangle never waits for a worker the system has not scheduled yet.
// Threads used to share each packed B block, one barrier per block: as fast on a quiet host,
// but 15-20% slower whenever the host placed the two vCPUs apart (measured on 288x5408x64:
// 372 vs 435 GFLOP/s).
// K is never split, and each element's arithmetic (its FMA chain over k, K slices, epilogue)
// does not depend on the split, so results are bitwise identical for any thread count.
// Problems under kParallelFlops run on the calling thread (no fork/join); tiny ones
// (M*N*K <= kSmallDirectMNK) skip packing altogether. Packing buffers are thread_local (one
// pair per rectangle, owned by the calling thread), 64-byte aligned and grow-only: no
// allocation per call once warm.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "gemm_kernels.h"
#include "thread_pool.h"
#include "nnforge/gemm.h"

namespace nnforge {
namespace detail {
int nc_for_l2(int kc, int nr, double share, int fallback) {
  const int64_t l2 = cpu_cache_sizes().l2;
  if (l2 <= 0 || kc <= 0 || nr <= 0) return fallback;
  const int64_t cols = static_cast<int64_t>(share * static_cast<double>(l2)) / (4 * int64_t(kc));
  return static_cast<int>(std::clamp<int64_t>(cols / nr * nr, nr, 64 * int64_t(nr)));
}

namespace {

const KernelSet& active_kernels() {
  static const KernelSet* ks = [] {
    const char* isa = cpu_isa();
    if (std::strcmp(isa, "avx512") == 0) return &kernels_avx512();
    if (std::strcmp(isa, "avx2") == 0) return &kernels_avx2();
    return &kernels_generic();
  }();
  return *ks;
}

// Per-thread, 64-byte aligned, grow-only scratch (no malloc per call once warm).
struct Scratch {
  float* p = nullptr;
  size_t cap = 0;  // floats
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  Scratch(Scratch&& o) noexcept : p(o.p), cap(o.cap) {
    o.p = nullptr;
    o.cap = 0;
  }
  ~Scratch() { std::free(p); }
  float* get(size_t n) {
    if (n > cap) {
      std::free(p);
      size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!p) {
        cap = 0;
        throw std::bad_alloc();
      }
      cap = bytes / sizeof(float);
    }
    return p;
  }
};
// The calling thread owns every buffer its parallel calls use (one A and one B buffer per
// thread), so all allocation happens before the parallel region: no failure inside it, and
// no extra synchronisation.
thread_local Scratch tl_a, tl_b;
thread_local std::vector<Scratch> tl_thread_a, tl_thread_b;  // one per thread of a call
thread_local std::vector<float*> tl_abufs, tl_bbufs;

struct Problem {
  bool ta, tb;
  int64_t M, N, K;
  float alpha, beta;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float* C;
  int64_t ldc;
  const float* bias;
  int act;
};

// Pack op(A)[i0:i0+mr, k0:k0+kc] as one micro-panel stored k-major: dst[k*mr + r].
void pack_a_panel(const Problem& p, const KernelSet& ks, int64_t i0, int mr, int64_t k0,
                  int64_t kc, float* dst) {
  if (p.ta && ks.copy_pack && mr <= 32) {
    ks.copy_pack(p.A + k0 * p.lda + i0, p.lda, mr, mr, kc, dst);
  } else if (p.ta) {  // A stored K x M: rows of op(A) are columns, each k gives mr floats
    const float* src = p.A + k0 * p.lda + i0;
    for (int64_t k = 0; k < kc; ++k) {
      const float* s = src + k * p.lda;
      float* d = dst + k * mr;
      for (int r = 0; r < mr; ++r) d[r] = s[r];
    }
  } else if (ks.transpose_pack && mr <= 16) {  // A stored M x K: transpose 16 k at a time
    ks.transpose_pack(p.A + i0 * p.lda + k0, p.lda, mr, mr, kc, dst, mr);
  } else {
    for (int r = 0; r < mr; ++r) {
      const float* s = p.A + (i0 + r) * p.lda + k0;
      float* d = dst + r;
      for (int64_t k = 0; k < kc; ++k) d[k * mr] = s[k];
    }
  }
}

// Pack op(B)[k0:k0+kc, j0:j0+nc] as consecutive micro-panels of NR = NV*VL columns (last one
// ceil(nr/VL)*VL columns, zero padded), each stored k-major.
void pack_b(const Problem& p, const KernelSet& ks, int64_t j0, int64_t nc, int64_t k0, int64_t kc,
            float* dst) {
  const int NR = ks.NV * ks.VL;
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
    const int w = (nr + ks.VL - 1) / ks.VL * ks.VL;
    if (!p.tb && ks.copy_pack && w <= 32) {
      ks.copy_pack(p.B + k0 * p.ldb + (j0 + jr), p.ldb, nr, w, kc, dst);
    } else if (!p.tb) {  // B stored K x N
      const float* src = p.B + k0 * p.ldb + (j0 + jr);
      for (int64_t k = 0; k < kc; ++k) {
        const float* s = src + k * p.ldb;
        float* d = dst + k * w;
        int c = 0;
        for (; c < nr; ++c) d[c] = s[c];
        for (; c < w; ++c) d[c] = 0.f;
      }
    } else if (ks.transpose_pack) {  // B stored N x K: transpose in slices of 16 columns
      for (int c0 = 0; c0 < w; c0 += 16) {
        const int rows = std::max(0, std::min(16, nr - c0));
        const int lanes = std::min(16, w - c0);
        ks.transpose_pack(p.B + (j0 + jr + c0) * p.ldb + k0, p.ldb, rows, lanes, kc, dst + c0, w);
      }
    } else {
      for (int c = 0; c < nr; ++c) {
        const float* s = p.B + (j0 + jr + c) * p.ldb + k0;
        float* d = dst + c;
        for (int64_t k = 0; k < kc; ++k) d[k * w] = s[k];
      }
      for (int c = nr; c < w; ++c)
        for (int64_t k = 0; k < kc; ++k) dst[k * w + c] = 0.f;
    }
    dst += kc * w;
  }
}

constexpr int64_t kDirectMaxN = 128;  // widest C (per thread) that reads row-major A in place

// K blocking: ceil(K/KC) slices of (almost) equal size. Depends only on K and the kernel set.
inline int64_t k_block(const KernelSet& ks, int64_t K) {
  int64_t nk = (K + ks.KC - 1) / ks.KC;
  return (K + nk - 1) / nk;
}

inline size_t abuf_floats(const KernelSet& ks, int64_t K) {
  return static_cast<size_t>(int64_t(ks.MC) * k_block(ks, K));
}
inline size_t bbuf_floats(const KernelSet& ks, int64_t K) {
  const int NR = ks.NV * ks.VL;
  return static_cast<size_t>(k_block(ks, K) * ((int64_t(ks.NC) + NR - 1) / NR * NR));
}

// Rows [m0,m1) x columns [n0,n1) of C on the calling thread: B blocks (kc x nc) packed into
// bbuf, A micro-panels into abuf (or A read in place).
void run_block(const Problem& p, const KernelSet& ks, int64_t m0, int64_t m1, int64_t n0,
               int64_t n1, float* bbuf, float* abuf) {
  const int MR = ks.MR, VL = ks.VL, NR = ks.NV * ks.VL;
  const int64_t kcb = k_block(ks, p.K);
  const int64_t NC = ks.NC;
  const int64_t chunk = ks.MC;  // rows per outer iteration
  // A read in place (row-major or transposed) when each A micro-panel would serve only a few
  // kernel calls (narrow C): packing it would not pay for itself.
  const auto& direct_tab = p.ta ? ks.ukr_direct_t : ks.ukr_direct;
  const bool direct_a = direct_tab[0][0] != nullptr && n1 - n0 <= kDirectMaxN;

  for (int64_t ib = m0; ib < m1; ib += chunk) {
    const int64_t ie = std::min<int64_t>(m1, ib + chunk);
    // The chunk's rows, cut into near-equal micro-panels <= MR.
    const int64_t npanels = (ie - ib + MR - 1) / MR;
    for (int64_t pc = 0; pc < p.K; pc += kcb) {
      const int64_t kc = std::min<int64_t>(kcb, p.K - pc);
      Epilogue ep;
      ep.alpha = p.alpha;
      ep.beta = pc == 0 ? p.beta : 1.f;
      ep.act = p.act;
      ep.last = pc + kc >= p.K;
      ep.bias = nullptr;
      bool a_packed = false;
      for (int64_t jb = n0; jb < n1; jb += NC) {
        const int64_t nc = std::min<int64_t>(NC, n1 - jb);
        pack_b(p, ks, jb, nc, pc, kc, bbuf);
        float* ap = abuf;
        for (int64_t q = 0; q < npanels; ++q) {
          const int64_t i = ib + (ie - ib) * q / npanels;
          const int mr = static_cast<int>(ib + (ie - ib) * (q + 1) / npanels - i);
          float* crow = p.C + i * p.ldc;
          const float* a_in = p.ta ? p.A + pc * p.lda + i : p.A + i * p.lda + pc;
          // A micro-panels are packed on first use (hot in L1 for the kernel) and reused for
          // the following column blocks; or read in place (direct_a).
          if (!direct_a && !a_packed) pack_a_panel(p, ks, i, mr, pc, kc, ap);
          const float* bp = bbuf;
          // Prefetch hint: the next A micro-panel (this block's next, else the first one, used
          // by the next column block), spread over the calls of this jr loop.
          const float* anext = q + 1 < npanels ? ap + kc * mr : abuf;
          const int64_t alines = (kc * MR + 15) / 16;
          int64_t pf_done = 0;
          const bool use_pf = !direct_a;
          // A transposed and read in place: the next panel's columns, row by row, during the
          // first call on this panel (the kernel steps the hint by lda).
          const bool pf_direct_t = direct_a && p.ta && q + 1 < npanels;
          const int64_t inext = i + mr;
          for (int64_t jr = 0; jr < nc; jr += NR) {
            if (use_pf && pf_done < alines) {
              ep.pf = anext + pf_done * 16;
              ep.pf_lines = static_cast<int>(std::min<int64_t>(alines - pf_done, kc / 4));
              pf_done += ep.pf_lines;
            } else if (pf_direct_t && jr == 0) {
              ep.pf = p.A + pc * p.lda + inext;
              ep.pf_lines = 1;
            } else {
              ep.pf_lines = 0;
            }
            const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
            const int nv = (nr + VL - 1) / VL;
            const int64_t j = jb + jr;
            ep.bias = p.bias ? p.bias + j : nullptr;
            if (direct_a)
              direct_tab[mr - 1][nv - 1](kc, a_in, p.lda, bp, crow + j, p.ldc, nr, ep);
            else
              ks.ukr[mr - 1][nv - 1](kc, ap, bp, crow + j, p.ldc, nr, ep);
            bp += kc * nv * VL;
          }
          ap += kc * mr;
        }
        a_packed = true;
      }
    }
  }
}

// C = beta*C (+bias, act) for K == 0 or alpha == 0.
void scale_only(const Problem& p, const KernelSet& ks) {
  for (int64_t i = 0; i < p.M; ++i) {
    float* c = p.C + i * p.ldc;
    if (p.beta == 0.f) {
      std::fill(c, c + p.N, 0.f);
    } else if (p.beta != 1.f) {
      for (int64_t j = 0; j < p.N; ++j) c[j] *= p.beta;
    }
    if (p.bias || p.act) ks.bias_act_row(c, p.bias, p.N, p.act);
  }
}

// Tiny problems: no packing, no threads.
void small_direct(const Problem& p) {
  for (int64_t i = 0; i < p.M; ++i) {
    float* c = p.C + i * p.ldc;
    for (int64_t j = 0; j < p.N; ++j) {
      float acc = 0.f;
      for (int64_t k = 0; k < p.K; ++k) {
        const float a = p.ta ? p.A[k * p.lda + i] : p.A[i * p.lda + k];
        const float b = p.tb ? p.B[j * p.ldb + k] : p.B[k * p.ldb + j];
        acc += a * b;
      }
      float x = p.alpha * acc;
      if (p.beta != 0.f) x = p.beta * c[j] + x;
      if (p.bias) x = x + p.bias[j];
      if (p.act) x = act_scalar(x, p.act);
      c[j] = x;
    }
  }
}

constexpr double kSmallDirectMNK = 4096.0;     // M*N*K at or below: direct loops
constexpr double kParallelFlops = 2.0e6;       // below: one thread (fork/join would dominate)

void gemm_impl(const Problem& p) {
  if (p.M <= 0 || p.N <= 0) return;
  const KernelSet& ks = active_kernels();
  if (p.K <= 0 || p.alpha == 0.f) {
    scale_only(p, ks);
    return;
  }
  const double mnk = double(p.M) * double(p.N) * double(p.K);
  if (mnk <= kSmallDirectMNK) {
    small_direct(p);
    return;
  }
  int T = get_num_threads();
  if (2.0 * mnk < kParallelFlops) T = 1;
  // Called from inside a parallel region (e.g. a kernel parallel over images calling sgemm per
  // image): stay on this thread rather than nest.
  if (T > 1 && in_parallel_section()) T = 1;
  const int MR = ks.MR, NR = ks.NV * ks.VL;
  const int64_t pm = (p.M + MR - 1) / MR, pn = (p.N + NR - 1) / NR;
  T = static_cast<int>(std::min<int64_t>(T, pm * pn));
  if (T <= 1) {
    run_block(p, ks, 0, p.M, 0, p.N, tl_b.get(bbuf_floats(ks, p.K)),
              tl_a.get(abuf_floats(ks, p.K)));
    return;
  }
  // Thread grid tm x tn (tm*tn == T): every thread owns a rectangle (rows x columns) and packs
  // its own panels. Pick the grid with the least work for the busiest thread (FMAs + packing,
  // in flops; packing one float costs about as much as 8 FMAs).
  int best_tm = T;
  double best_cost = 1e300;
  for (int tm = T; tm >= 1; --tm) {
    if (T % tm) continue;
    const int tn = T / tm;
    const double rows = double((pm + tm - 1) / tm) * MR;
    const double cols = double((pn + tn - 1) / tn) * NR;
    const double cost = rows * cols * double(p.K) + 8.0 * (rows + cols) * double(p.K);
    if (cost < best_cost * 0.999) {
      best_cost = cost;
      best_tm = tm;
    }
  }
  const int tm = best_tm, tn = T / tm;
  if (tl_thread_a.size() < size_t(T)) tl_thread_a.resize(T);
  if (tl_thread_b.size() < size_t(T)) tl_thread_b.resize(T);
  if (tl_abufs.size() < size_t(T)) tl_abufs.resize(T), tl_bbufs.resize(T);
  float** abufs = tl_abufs.data();
  float** bbufs = tl_bbufs.data();
  for (int t = 0; t < T; ++t) {
    abufs[t] = tl_thread_a[t].get(abuf_floats(ks, p.K));
    bbufs[t] = tl_thread_b[t].get(bbuf_floats(ks, p.K));
  }
  // One chunk per rectangle (thread_pool.h): a thread that runs takes the rectangle of one the
  // system has not scheduled, and nobody waits for a thread that has no rectangle left.
  parallel_chunks(T, T, [&](int64_t t) {
    const int64_t ti = t / tn, tj = t % tn;
    const int64_t r0 = std::min<int64_t>(p.M, pm * ti / tm * MR);
    const int64_t r1 = std::min<int64_t>(p.M, pm * (ti + 1) / tm * MR);
    const int64_t c0 = std::min<int64_t>(p.N, pn * tj / tn * NR);
    const int64_t c1 = std::min<int64_t>(p.N, pn * (tj + 1) / tn * NR);
    if (r0 < r1 && c0 < c1) run_block(p, ks, r0, r1, c0, c1, bbufs[t], abufs[t]);
  });
}

}  // namespace
}  // namespace detail

GemmBlocking gemm_blocking() {
  const detail::KernelSet& ks = detail::active_kernels();
  return GemmBlocking{ks.name, ks.MR, ks.NV * ks.VL, ks.KC, ks.NC, ks.MC};
}

void sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
           int64_t ldc) {
  detail::Problem p{trans_a, trans_b, M, N, K, alpha, beta, A, lda, B, ldb, C, ldc, nullptr, 0};
  detail::gemm_impl(p);
}

void sgemm_bias_act(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                    const float* A, int64_t lda, const float* B, int64_t ldb,
                    const float* bias, Act act, float* C, int64_t ldc) {
  detail::Problem p{trans_a, trans_b, M,       N,   K, 1.f, 0.f, A, lda, B, ldb,
                    C,       ldc,     bias,    static_cast<int>(act)};
  detail::gemm_impl(p);
}

}  // namespace nnforge
