// int8 GEMM on the GPU with __dp4a (sm_61+): the twin of cpp/src/qgemm.cpp (nnforge/qgemm.h),
// kept simple: correctness first.
//
//  * quantize_rows: one block per row (grid-stride over rows): a block reduction of max|x|, then
//    q = clip(rint(x * scale), -127, 127) (round half to even, as the CPU and NumPy).
//  * qgemm: 16 x 16 output tiles, one thread per output element; per step, 16 k-groups (64 k) of
//    A (bytes, assembled into int32 words, zero past K) and of the packed W (int32 words, zero
//    past K / N) are staged in shared memory; each thread runs 16 __dp4a. The epilogue writes
//    int32, or dequantizes (acc / (xs*ws), IEEE division), adds bias, applies the activation of
//    the GEMM epilogue (common.cuh) and writes float or requantized int8.
// Grid: x walks the N tiles, y the M tiles in a grid-stride loop (no 65535 cap on M).
#include "common.cuh"
#include "qgemm.cuh"

namespace nnforge {
namespace cuda {
namespace {

constexpr int kQT = 16;   // tile edge (rows and columns)
constexpr int kQG = 16;   // k-groups of 4 per shared-memory step

__device__ __forceinline__ int q127(float v) {
  if (v != v) return 0;
  v = fminf(fmaxf(v, -127.f), 127.f);
  return __float2int_rn(v);
}

__global__ void quantize_rows_kernel(const float* __restrict__ x, int64_t M, int64_t K,
                                     float static_scale, int8_t* __restrict__ q,
                                     float* __restrict__ scale) {
  __shared__ float red[kThreads / 32];
  for (int64_t r = blockIdx.x; r < M; r += gridDim.x) {
    const float* xr = x + r * K;
    float s = static_scale;
    if (!(s > 0.f)) {
      float m = 0.f;
      for (int64_t k = threadIdx.x; k < K; k += blockDim.x) {
        const float a = fabsf(xr[k]);
        m = a > m ? a : m;  // NaN never selected, as on the CPU
      }
      for (int o = 16; o > 0; o >>= 1) {
        const float b = __shfl_xor_sync(0xffffffffu, m, o);
        m = b > m ? b : m;
      }
      if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = m;
      __syncthreads();
      m = 0.f;
      for (int w = 0; w < static_cast<int>(blockDim.x >> 5); ++w) m = red[w] > m ? red[w] : m;
      __syncthreads();  // red is reused by the next row
      s = 127.f / (m + 1e-7f);
    }
    if (threadIdx.x == 0) scale[r] = s;
    int8_t* qr = q + r * K;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x)
      qr[k] = static_cast<int8_t>(q127(__fmul_rn(xr[k], s)));
  }
}

struct QArgs {
  const int8_t* A;
  const int* W;  // panels as int32 words: W[(p*KG + g)*16 + c]
  int64_t M, K, KG, N;
  int mode;
  const float* xs;
  const float* ws;
  const float* bias;
  int act;
  float out_scale;
  void* out;
};

__global__ void qgemm_kernel(QArgs a) {
  __shared__ int As[kQT][kQG + 1];
  __shared__ int Bs[kQG][kQT];
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * kQT + tx;
  const int64_t col0 = int64_t(blockIdx.x) * kQT;
  const int64_t panel = col0 / 16;
  const int64_t mtiles = (a.M + kQT - 1) / kQT;
  for (int64_t mt = blockIdx.y; mt < mtiles; mt += gridDim.y) {
    const int64_t row0 = mt * kQT;
    int acc = 0;
    for (int64_t g0 = 0; g0 < a.KG; g0 += kQG) {
      {  // A: kQT rows x kQG groups, one word per thread (256 == 16 * 16)
        const int r = tid / kQG, g = tid % kQG;
        const int64_t row = row0 + r, k0 = (g0 + g) * 4;
        int w = 0;
        if (row < a.M) {
          const int8_t* src = a.A + row * a.K;
#pragma unroll
          for (int t = 0; t < 4; ++t)
            if (k0 + t < a.K) w |= (static_cast<int>(static_cast<uint8_t>(src[k0 + t])) << (8 * t));
        }
        As[r][g] = w;
      }
      {  // W: kQG groups x 16 columns of this block's panel
        const int g = tid / kQT, c = tid % kQT;
        Bs[g][c] = (g0 + g < a.KG && col0 + c < a.N) ? a.W[(panel * a.KG + g0 + g) * 16 + c] : 0;
      }
      __syncthreads();
#pragma unroll
      for (int g = 0; g < kQG; ++g) acc = __dp4a(As[ty][g], Bs[g][tx], acc);
      __syncthreads();
    }
    const int64_t row = row0 + ty, col = col0 + tx;
    if (row < a.M && col < a.N) {
      const int64_t o = row * a.N + col;
      if (a.mode == 0) {
        static_cast<int*>(a.out)[o] = acc;
      } else {
        float y = __fdiv_rn(static_cast<float>(acc), __fmul_rn(a.xs[row], a.ws[col]));
        if (a.bias) y = __fadd_rn(y, a.bias[col]);
        y = epilogue_act(a.act, y);
        if (a.mode == 1)
          static_cast<float*>(a.out)[o] = y;
        else
          static_cast<int8_t*>(a.out)[o] = static_cast<int8_t>(q127(__fmul_rn(y, a.out_scale)));
      }
    }
  }
}

}  // namespace

cudaError_t quantize_rows_s8(const float* x, int64_t M, int64_t K, float static_scale, int8_t* q,
                             float* scale, cudaStream_t stream) {
  if (M <= 0) return cudaSuccess;
  const unsigned blocks = static_cast<unsigned>(M < 65536 ? M : 65536);
  quantize_rows_kernel<<<blocks, kThreads, 0, stream>>>(x, M, K, static_scale, q, scale);
  return last_error();
}

cudaError_t qgemm_s8(const int8_t* xq, int64_t M, int64_t K, const int8_t* panels, int64_t N,
                     int mode, const float* xs, const float* ws, const float* bias, Act act,
                     float out_scale, void* out, cudaStream_t stream) {
  if (M <= 0 || N <= 0) return cudaSuccess;
  QArgs a{xq, reinterpret_cast<const int*>(panels), M, K, (K + 3) / 4, N, mode, xs, ws, bias,
          static_cast<int>(act), out_scale, out};
  const int64_t ntiles = (N + kQT - 1) / kQT, mtiles = (M + kQT - 1) / kQT;
  if (ntiles > 0x7fffffff) return cudaErrorInvalidValue;
  const dim3 grid(static_cast<unsigned>(ntiles),
                  static_cast<unsigned>(mtiles < 65535 ? mtiles : 65535));
  qgemm_kernel<<<grid, dim3(kQT, kQT), 0, stream>>>(a);
  return last_error();
}

}  // namespace cuda
}  // namespace nnforge
