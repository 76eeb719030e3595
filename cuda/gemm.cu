// Single-precision GEMM on the GPU, row-major, with the semantics of cpp/include/nnforge/gemm.h:
//   C[M,N] = act(alpha * op(A) @ op(B) + beta * C + bias[N])
//
// Two kernels:
//  * sgemm_simt: FP32 on CUDA cores. A block computes a BM x BN tile (128x128 or 64x64) with 256
//    threads, each holding a (BM/16) x (BN/16) register tile; A and B panels of depth 8 are staged
//    in double-buffered shared memory (k-major), the next panel prefetched into registers while
//    the current one is multiplied.
//  * gemm_tc<TF32|BF16>: tensor cores via mma.sync (sm_80+). A block computes 128x128 with 8 warps
//    (2 x 4), each warp 64x32 = 4 x 4 mma tiles of m16n8. Panels of depth 16 (TF32) or 32 (BF16)
//    are rounded to TF32 (cvt.rna) or BF16 (round-to-nearest-even) on their way into shared
//    memory, rows padded so the fragment loads are bank-conflict free; accumulation is FP32.
// Transposes are handled by the global->shared staging (coalesced for either layout), so both
// kernels take any leading dimension and alignment. The epilogue applies alpha, beta, bias and
// the activation in the single pass that writes C. alpha == 0 or K == 0 reads neither A nor B
// (gemm_scale: C = beta*C + bias, act), as on the CPU, so NaN in A or B cannot leak into C.
//
// Grid: blockIdx.x walks the N tiles (up to 2^31 - 1 of them), blockIdx.y the M tiles; M above
// 65535 tiles is launched in slices of 65535 tiles (A and C offset), so neither size is capped.
#include <cuda_bf16.h>

#include <atomic>

#include "common.cuh"

namespace nnforge {
namespace cuda {

namespace {

struct GemmParams {
  const float* A;
  const float* B;
  float* C;
  const float* bias;
  int64_t M, N, K, lda, ldb, ldc;
  float alpha, beta;
  int act;
  bool ta, tb;
};

__device__ __forceinline__ void store_c(const GemmParams& p, int64_t r, int64_t c, float acc) {
  if (r < p.M && c < p.N) {
    float* dst = p.C + r * p.ldc + c;
    float v = p.alpha * acc;
    if (p.beta != 0.f) v += p.beta * *dst;
    if (p.bias != nullptr) v += p.bias[c];
    *dst = epilogue_act(p.act, v);
  }
}

// Element (row, k) of op(A) and (k, col) of op(B), zero outside the matrix.
__device__ __forceinline__ float load_a(const GemmParams& p, int64_t m, int64_t k) {
  if (m >= p.M || k >= p.K) return 0.f;
  return p.ta ? p.A[k * p.lda + m] : p.A[m * p.lda + k];
}
__device__ __forceinline__ float load_b(const GemmParams& p, int64_t k, int64_t n) {
  if (n >= p.N || k >= p.K) return 0.f;
  return p.tb ? p.B[n * p.ldb + k] : p.B[k * p.ldb + n];
}

// Both kernels' panel staging: a 256-thread block holds one K panel of depth BK of op(A) (rows
// m0.., A_PER elements a thread) and op(B) (columns n0.., B_PER a thread) in registers, loaded
// from global memory and then stored into the kernel's own shared layout. Thread -> element
// maps: consecutive threads walk the contiguous dimension of each layout, so the global reads
// coalesce for either transpose.
template <int BM, int BN, int BK>
struct PanelStage {
  static constexpr int A_PER = BM * BK / 256, B_PER = BN * BK / 256;
  const GemmParams& p;
  int tid;
  int64_t m0, n0;

  // Panel coordinates of the thread's i-th element of op(A) (m, k) and of op(B) (k, n).
  __device__ __forceinline__ void a_coord(int i, int& m, int& k) const {
    const int e = tid + i * 256;
    if (p.ta) { m = e % BM; k = e / BM; } else { k = e % BK; m = e / BK; }
  }
  __device__ __forceinline__ void b_coord(int i, int& k, int& n) const {
    const int e = tid + i * 256;
    if (p.tb) { k = e % BK; n = e / BK; } else { n = e % BN; k = e / BN; }
  }
  // ra, rb = the thread's elements of the panel starting at k0 (zero outside the matrices).
  __device__ __forceinline__ void load(int64_t k0, float (&ra)[A_PER], float (&rb)[B_PER]) const {
#pragma unroll
    for (int i = 0; i < A_PER; ++i) {
      int m, k;
      a_coord(i, m, k);
      ra[i] = load_a(p, m0 + m, k0 + k);
    }
#pragma unroll
    for (int i = 0; i < B_PER; ++i) {
      int k, n;
      b_coord(i, k, n);
      rb[i] = load_b(p, k0 + k, n0 + n);
    }
  }
  // Hands the elements to the shared layout: put_a(m, k, ra[i]) and put_b(n, k, rb[i]).
  template <class PutA, class PutB>
  __device__ __forceinline__ void store(const float (&ra)[A_PER], const float (&rb)[B_PER],
                                        PutA put_a, PutB put_b) const {
#pragma unroll
    for (int i = 0; i < A_PER; ++i) {
      int m, k;
      a_coord(i, m, k);
      put_a(m, k, ra[i]);
    }
#pragma unroll
    for (int i = 0; i < B_PER; ++i) {
      int k, n;
      b_coord(i, k, n);
      put_b(n, k, rb[i]);
    }
  }
};

// alpha == 0 or K == 0: C = beta*C (C not read when beta == 0) + bias, then act; A, B unread.
__global__ void gemm_scale(GemmParams p) {
  const int64_t total = p.M * p.N;
  NNF_GRID_LOOP(i, total) {
    const int64_t r = i / p.N, c = i % p.N;
    float* dst = p.C + r * p.ldc + c;
    float v = p.beta == 0.f ? 0.f : p.beta * *dst;
    if (p.bias != nullptr) v += p.bias[c];
    *dst = epilogue_act(p.act, v);
  }
}

// ---- FP32 SIMT kernel ------------------------------------------------------------------------

template <int BM, int BN>
__global__ void __launch_bounds__(256) sgemm_simt(GemmParams p) {
  constexpr int BK = 8;
  constexpr int TM = BM / 16, TN = BN / 16;  // register tile per thread
  constexpr int GM = TM / 4, GN = TN / 4;    // float4 groups, spaced 64 rows / columns apart
  using Panel = PanelStage<BM, BN, BK>;
  constexpr int A_PER = Panel::A_PER, B_PER = Panel::B_PER;
  static_assert(TM % 4 == 0 && TN % 4 == 0, "tile must be a multiple of 64");

  __shared__ __align__(16) float As[2][BK][BM];
  __shared__ __align__(16) float Bs[2][BK][BN];

  const int tid = threadIdx.x;
  const int tx = tid % 16, ty = tid / 16;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * BN;

  float ra[A_PER], rb[B_PER];
  const Panel panel{p, tid, m0, n0};
  auto load = [&](int64_t k0) { panel.load(k0, ra, rb); };
  auto store = [&](int buf) {
    panel.store(ra, rb, [&](int m, int k, float v) { As[buf][k][m] = v; },
                [&](int n, int k, float v) { Bs[buf][k][n] = v; });
  };

  float acc[TM][TN];
#pragma unroll
  for (int i = 0; i < TM; ++i)
#pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = 0.f;

  const int64_t num_k = (p.K + BK - 1) / BK;
  load(0);
  store(0);
  __syncthreads();
  for (int64_t kt = 0; kt < num_k; ++kt) {
    const int cur = static_cast<int>(kt & 1);
    if (kt + 1 < num_k) load((kt + 1) * BK);
#pragma unroll
    for (int k = 0; k < BK; ++k) {
      float a[TM], b[TN];
#pragma unroll
      for (int g = 0; g < GM; ++g) {
        const float4 v = *reinterpret_cast<const float4*>(&As[cur][k][g * 64 + ty * 4]);
        a[g * 4 + 0] = v.x; a[g * 4 + 1] = v.y; a[g * 4 + 2] = v.z; a[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int g = 0; g < GN; ++g) {
        const float4 v = *reinterpret_cast<const float4*>(&Bs[cur][k][g * 64 + tx * 4]);
        b[g * 4 + 0] = v.x; b[g * 4 + 1] = v.y; b[g * 4 + 2] = v.z; b[g * 4 + 3] = v.w;
      }
#pragma unroll
      for (int i = 0; i < TM; ++i)
#pragma unroll
        for (int j = 0; j < TN; ++j) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    if (kt + 1 < num_k) store(cur ^ 1);
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < TM; ++i) {
    const int64_t r = m0 + (i / 4) * 64 + ty * 4 + (i % 4);
#pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int64_t c = n0 + (j / 4) * 64 + tx * 4 + (j % 4);
      store_c(p, r, c, acc[i][j]);
    }
  }
}

// ---- tensor-core kernel (mma.sync, sm_80+) ---------------------------------------------------

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
__device__ __forceinline__ uint32_t to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
  return r;
}

// D = A(16x8, row) * B(8x8, col) + D; fragments as in the PTX ISA for m16n8k8 .tf32.
__device__ __forceinline__ void mma_tf32(float* d, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// D = A(16x16, row) * B(16x8, col) + D; each register holds two consecutive-k bf16.
__device__ __forceinline__ void mma_bf16(float* d, const uint32_t* a, const uint32_t* b) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}
#endif

// Register budget (ptxas -v, CUDA 13.0, -O3; 256 threads per block, 64K registers per SM):
//   kernel              sm_80            sm_90                     blocks/SM (register-bound)
//   sgemm_simt<64,64>   64               62                        4
//   sgemm_simt<128,128> 141              148                       1
//   gemm_tc<TF32>       188              192                       1
//   gemm_tc<BF16>       254              255 + 12 B spill          1
// Where the BF16 registers go: 64 accumulators, 2 x 16 floats of register prefetch (PER = 16
// per operand at BK = 32), 12 fragment words, addresses. One block (8 warps) per SM leaves the
// double buffer to hide global latency alone. Not yet timed (no GPU has run this code); the plan
// for the first device run, each change kept only if benchmarks/gpu.py's sgemm table improves:
//   1. measure: the sgemm table (FP32/TF32/BF16 vs cuBLAS) and Nsight Compute on gemm_tc<2> at
//      4096^3: achieved occupancy, local-memory (spill) traffic, tensor-pipe activity, stall
//      reasons (long scoreboard = global latency, mio throttle = shared-memory bandwidth);
//   2. BF16: keep the prefetch packed as bf16x2 (round at load time instead of at the shared
//      store; same rounding), 16 registers fewer, which removes the sm_90 spill;
//   3. cp.async (sm_80+) multi-stage global->shared copies instead of register prefetch: frees
//      the 16-32 prefetch registers of every variant, so __launch_bounds__(256, 2) can give two
//      blocks per SM without spilling; ldmatrix for the fragment loads.
// Hypotheses to confirm or drop with those numbers: 2 matters only where the spill shows in the
// local-memory traffic (sm_90 BF16); 3 is the larger step for big K, as in CUTLASS's multistage
// 128x128x32 kernels.
template <int PREC>  // 1: TF32, 2: BF16
__global__ void __launch_bounds__(256) gemm_tc(GemmParams p) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  constexpr bool kBF16 = PREC == 2;
  // Panel depth: 16 TF32 or 32 BF16 values, i.e. 16 words per row either way; rows are padded
  // to 20 words so the 32 lanes' fragment loads (row g = lane/4, word t = lane%4, at 20g + t)
  // fall in 32 distinct banks. The depth keeps the register prefetch at 8 (TF32) / 16 (BF16)
  // values per operand per thread, which leaves room for the 64 accumulators.
  constexpr int BM = 128, BN = 128, BK = kBF16 ? 32 : 16;
  constexpr int LDS = 20;
  using Panel = PanelStage<BM, BN, BK>;
  constexpr int PER = Panel::A_PER;  // elements of each operand staged per thread
  static_assert(Panel::B_PER == PER, "square block: as many B as A elements a thread");
  __shared__ __align__(16) uint32_t As[BM * LDS];  // op(A) tile, m-major: As[m][k]
  __shared__ __align__(16) uint32_t Bs[BN * LDS];  // op(B) tile, n-major: Bs[n][k]

  const int tid = threadIdx.x;
  const int warp = tid / 32, lane = tid % 32;
  const int wm = warp / 4, wn = warp % 4;  // warp tile: rows wm*64.., columns wn*32..
  const int g = lane / 4, t = lane % 4;
  const int64_t m0 = static_cast<int64_t>(blockIdx.y) * BM;
  const int64_t n0 = static_cast<int64_t>(blockIdx.x) * BN;

  float ra[PER], rb[PER];
  const Panel panel{p, tid, m0, n0};
  auto load = [&](int64_t k0) { panel.load(k0, ra, rb); };
  // Element (row, k) of a padded shared tile (As: row m, Bs: row n), rounded to BF16 or TF32.
  auto put = [&](uint32_t* tile, int row, int k, float v) {
    if (kBF16)
      reinterpret_cast<__nv_bfloat16*>(tile)[row * 2 * LDS + k] = __float2bfloat16_rn(v);
    else
      tile[row * LDS + k] = to_tf32(v);
  };
  auto store = [&]() {
    panel.store(ra, rb, [&](int m, int k, float v) { put(As, m, k, v); },
                [&](int n, int k, float v) { put(Bs, n, k, v); });
  };

  float acc[4][4][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.f;

  const int64_t num_k = (p.K + BK - 1) / BK;
  if (num_k > 0) load(0);
  for (int64_t kt = 0; kt < num_k; ++kt) {
    store();
    __syncthreads();
    if (kt + 1 < num_k) load((kt + 1) * BK);  // in flight while the tensor cores work
    // A k-step covers 8 TF32 or 16 BF16 values = 4 words per fragment half, so the word offsets
    // are the same for both: rows g / g+8, words (step*8 + t) and (step*8 + t + 4).
    constexpr int STEPS = kBF16 ? BK / 16 : BK / 8;
#pragma unroll
    for (int ks = 0; ks < STEPS; ++ks) {
      const int w = ks * 8 + t;
      uint32_t bf[4][2];
#pragma unroll
      for (int ni = 0; ni < 4; ++ni) {
        const int c = wn * 32 + ni * 8 + g;
        bf[ni][0] = Bs[c * LDS + w];
        bf[ni][1] = Bs[c * LDS + w + 4];
      }
#pragma unroll
      for (int mi = 0; mi < 4; ++mi) {
        const int r = wm * 64 + mi * 16 + g;
        uint32_t af[4];
        af[0] = As[r * LDS + w];
        af[1] = As[(r + 8) * LDS + w];
        af[2] = As[r * LDS + w + 4];
        af[3] = As[(r + 8) * LDS + w + 4];
#pragma unroll
        for (int ni = 0; ni < 4; ++ni) {
          if (kBF16)
            mma_bf16(acc[mi][ni], af, bf[ni]);
          else
            mma_tf32(acc[mi][ni], af, bf[ni]);
        }
      }
    }
    __syncthreads();
  }

  // Accumulator layout of m16n8: (g, 2t), (g, 2t+1), (g+8, 2t), (g+8, 2t+1).
#pragma unroll
  for (int mi = 0; mi < 4; ++mi) {
    const int64_t r = m0 + wm * 64 + mi * 16 + g;
#pragma unroll
    for (int ni = 0; ni < 4; ++ni) {
      const int64_t c = n0 + wn * 32 + ni * 8 + 2 * t;
      store_c(p, r, c, acc[mi][ni][0]);
      store_c(p, r, c + 1, acc[mi][ni][1]);
      store_c(p, r + 8, c, acc[mi][ni][2]);
      store_c(p, r + 8, c + 1, acc[mi][ni][3]);
    }
  }
#endif  // __CUDA_ARCH__ >= 800 (the host never launches it on older devices)
}

struct DeviceInfo {
  std::atomic<int> cc{-1};
  std::atomic<int> sms{-1};
};
DeviceInfo g_info[64];

DeviceInfo* current_info() {
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) {
    cudaGetLastError();
    return nullptr;
  }
  DeviceInfo& d = g_info[dev];
  if (d.cc.load() < 0) {
    int major = 0, minor = 0, sms = 0;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev) != cudaSuccess ||
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess) {
      cudaGetLastError();
      return nullptr;
    }
    d.sms.store(sms);
    d.cc.store(major * 10 + minor);
  }
  return &d;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

int current_device_cc() {
  DeviceInfo* d = current_info();
  return d ? d->cc.load() : 0;
}

bool tensor_cores_used(Precision prec) {
  return prec != Precision::FP32 && current_device_cc() >= 80;
}

cudaError_t sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc, const float* bias, Act act, Precision prec, cudaStream_t stream) {
  if (M == 0 || N == 0) return cudaSuccess;
  GemmParams p{A, B, C, bias, M, N, K, lda, ldb, ldc, alpha, beta, static_cast<int>(act),
               trans_a, trans_b};
  DeviceInfo* info = current_info();
  if (info == nullptr) {
    // No usable device: surface the runtime's own error rather than launching blind.
    int dev = 0;
    cudaError_t e = cudaGetDevice(&dev);
    return e != cudaSuccess ? e : cudaErrorNoDevice;
  }
  if (K == 0 || alpha == 0.f) {
    gemm_scale<<<grid_for(M * N), kThreads, 0, stream>>>(p);
    return last_error();
  }
  const int cc = info->cc.load();
  const int sms = info->sms.load();
  // Tile: 128x128 on tensor cores; for FP32 128x128 when that gives every SM at least two
  // blocks, else 64x64.
  const bool tc = prec != Precision::FP32 && cc >= 80;
  const bool big = tc || ceil_div(M, 128) * ceil_div(N, 128) >= 2 * static_cast<int64_t>(sms);
  const int tile = big ? 128 : 64;
  const int64_t tiles_n = ceil_div(N, tile), tiles_m = ceil_div(M, tile);
  if (tiles_n > 0x7fffffff) return cudaErrorInvalidConfiguration;
  constexpr int64_t kMaxTilesY = 65535;
  for (int64_t t0 = 0; t0 < tiles_m; t0 += kMaxTilesY) {
    const int64_t ty = tiles_m - t0 < kMaxTilesY ? tiles_m - t0 : kMaxTilesY;
    const int64_t m_off = t0 * tile;
    GemmParams q = p;
    q.M = M - m_off < ty * tile ? M - m_off : ty * tile;
    q.A = trans_a ? A + m_off : A + m_off * lda;  // op(A) rows m_off.. of a (K x M) or (M x K) A
    q.C = C + m_off * ldc;
    const dim3 grid(static_cast<unsigned>(tiles_n), static_cast<unsigned>(ty));
    if (tc && prec == Precision::TF32)
      gemm_tc<1><<<grid, 256, 0, stream>>>(q);
    else if (tc)
      gemm_tc<2><<<grid, 256, 0, stream>>>(q);
    else if (big)
      sgemm_simt<128, 128><<<grid, 256, 0, stream>>>(q);
    else
      sgemm_simt<64, 64><<<grid, 256, 0, stream>>>(q);
    NNF_CUDA_TRY(last_error());
  }
  return cudaSuccess;
}

}  // namespace cuda
}  // namespace nnforge
