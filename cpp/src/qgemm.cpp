// int8 GEMM driver and the int8 Dense / Conv2D inference kernels (nnforge/qgemm.h).
//
// The weights are packed once, outside (nnforge/qgemm.h: 16-column panels of 4-k groups), so
// nothing of B is packed here. A, the activations, is quantized (or, for qgemm_s8s32, shifted)
// into u8 rows padded to a multiple of 4 bytes: that row-major buffer is the micro-kernels' packed
// A (a micro-panel is read in place, 4 bytes of a row broadcast per k-group).
//
// Loop nest of one thread over its rectangle of C (run_block), K never split (the micro-kernel
// keeps the whole K sum in registers and the tile is written once):
//   for jb (NCP panels = 16*NCP columns)    B block: ~K*16*NCP bytes, stays in L2
//     for ib (chunks of MC rows)            A block: MC rows x K bytes, stays in L2
//       for jr (<= NV panels, near-equal)   B micro-panel: K*16*NV bytes (L1/L2)
//         for ir (MR rows)                  A micro-panel: MR rows, streamed from L2
//           micro-kernel -> int32 tile (registers, then a 4 KB stack tile)
//           epilogue: int32 out, or float(acc) / (xs[i]*ws[j]) + bias -> act -> float or int8
// Threads: a tm x tn grid of rectangles (rows in MR multiples, columns in NV-panel multiples),
// chosen as sgemm's (largest rectangle area + its A and B reads). Each element's arithmetic is the
// same for any split, so results do not depend on the thread count (integers are exact anyway).
// Conv2D: each image is quantized once (one scale per image, or the static one) into u8; threads
// then take chunks of output rows, copy their u8 patches (im2col on bytes) straight into the
// kernels' A layout and run the whole GEMM for the chunk on their own (weights shared, read only).
#include "nnforge/qgemm.h"

#include <emmintrin.h>  // SSE2 (every x86-64): the 16-byte patch copies
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "fast_math.h"
#include "qgemm_kernels.h"

namespace nnforge {
namespace detail {

namespace {

// ---- dispatch ----------------------------------------------------------------------------------

struct IsaInfo {
  const char* name;
  bool (*supported)();
  const QKernelSet& (*kernels)();
};

bool has_avx512vnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
}
bool has_avxvnni() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avxvnni");
}
bool has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
bool has_generic() { return true; }

// Best first.
const IsaInfo kIsas[] = {
    {"amx", amx_available, qkernels_amx},
    {"avx512_vnni", has_avx512vnni, qkernels_avx512vnni},
    {"avx_vnni", has_avxvnni, qkernels_avxvnni},
    {"avx2", has_avx2, qkernels_avx2},
    {"generic", has_generic, qkernels_generic},
};

const IsaInfo* find_isa(const char* name) {
  for (const IsaInfo& i : kIsas)
    if (std::strcmp(i.name, name) == 0) return &i;
  return nullptr;
}

const IsaInfo* default_isa() {
  if (const char* env = std::getenv("NNFORGE_INT8_ISA")) {
    const IsaInfo* i = find_isa(env);
    if (i && i->supported()) return i;
  }
  for (const IsaInfo& i : kIsas)
    if (i.supported()) return &i;
  return &kIsas[4];
}

std::atomic<const IsaInfo*> g_isa{nullptr};

const IsaInfo& active_isa() {
  const IsaInfo* i = g_isa.load(std::memory_order_acquire);
  if (!i) {
    const IsaInfo* d = default_isa();
    const IsaInfo* expected = nullptr;
    i = g_isa.compare_exchange_strong(expected, d) ? d : expected;
  }
  return *i;
}

// The kernel set for a product with K-deep rows: the active one, except that AMX gives way to
// the AVX-512 VNNI kernels below one full 64-deep tile step (its tiles would be mostly padding
// and every micro-kernel call would copy its partial B tile). Same integers either way.
constexpr int64_t kAmxMinK = 64;
const QKernelSet& kernels_for(int64_t K) {
  const IsaInfo& i = active_isa();
  if (K < kAmxMinK && i.kernels == &qkernels_amx && has_avx512vnni())
    return qkernels_avx512vnni();
  return i.kernels();
}

// ---- scratch -----------------------------------------------------------------------------------

// Per-thread, 64-byte aligned, grow-only byte buffer.
struct Buf {
  unsigned char* p = nullptr;
  size_t cap = 0;
  Buf() = default;
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  Buf(Buf&& o) noexcept : p(o.p), cap(o.cap) { o.p = nullptr, o.cap = 0; }
  ~Buf() { std::free(p); }
  void* get(size_t n) {
    if (n == 0) n = 64;
    if (n > cap) {
      std::free(p);
      const size_t bytes = (n + 63) / 64 * 64;
      p = static_cast<unsigned char*>(std::aligned_alloc(64, bytes));
      if (!p) {
        cap = 0;
        throw std::bad_alloc();
      }
      cap = bytes;
    }
    return p;
  }
};
thread_local Buf tl_a, tl_s;
thread_local std::vector<Buf> tl_conv;  // per worker of a call: 3 buffers each (conv), 1 (quantize)

inline int64_t k4(int64_t K) { return (K + 3) / 4 * 4; }
inline int64_t round_up(int64_t n, int64_t a) { return (n + a - 1) / a * a; }
// Row stride of the u8 A buffer for this kernel set (>= 4 so that K == 0 still has a row).
inline int64_t a_ld(const QKernelSet& ks, int64_t K) {
  return round_up(std::max<int64_t>(K, 1), ks.lda_align);
}
// A buffer of M rows (padded to the set's row_align; the padding rows set to 128 = zero).
// slack: bytes writable past the last row (for whole-vector copies that overshoot).
uint8_t* a_buffer(Buf& b, const QKernelSet& ks, int64_t M, int64_t lda, int64_t slack = 0) {
  const int64_t rows = round_up(M, ks.row_align);
  uint8_t* A = static_cast<uint8_t*>(b.get(size_t(rows) * size_t(lda) + size_t(slack)));
  if (rows > M) std::memset(A + M * lda, 128, size_t((rows - M) * lda));
  return A;
}

// ---- quantization ------------------------------------------------------------------------------

// round half to even of |v| <= 127.5 (the 1.5*2^23 trick; exact in float, vectorisable).
inline float round_even(float v) { return (v + 12582912.0f) - 12582912.0f; }

// q = clip(round(v), -127, 127) as an int (NaN -> 0).
inline int32_t q127(float v) {
  v = v < -127.0f ? -127.0f : v;
  v = v > 127.0f ? 127.0f : v;
  v = v == v ? v : 0.0f;
  return static_cast<int32_t>(round_even(v));
}

inline float row_scale(const float* x, int64_t K) {
  float m = 0.0f;
  for (int64_t k = 0; k < K; ++k) {
    const float a = std::fabs(x[k]);
    m = a > m ? a : m;
  }
  return 127.0f / (m + 1e-7f);
}

// Rows [r0, r1) of x (stride ldx) -> u8 rows of a (stride lda, K..lda padded with 128).
void quantize_u8(const float* __restrict__ x, int64_t r0, int64_t r1, int64_t K, int64_t ldx,
                 float static_scale, uint8_t* __restrict__ a, int64_t lda,
                 float* __restrict__ scale) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * ldx;
    const float s = static_scale > 0.0f ? static_scale : row_scale(xr, K);
    scale[r] = s;
    uint8_t* ar = a + r * lda;
    for (int64_t k = 0; k < K; ++k) ar[k] = static_cast<uint8_t>(q127(xr[k] * s) + 128);
    for (int64_t k = K; k < lda; ++k) ar[k] = 128;
  }
}

// ---- epilogue ----------------------------------------------------------------------------------

inline float apply_act(float y, int act) {
  switch (act) {
    case 1: return y > 0.0f ? y : (y != y ? y : 0.0f);
    case 2: return fast_sigmoid(y);
    case 3: return fast_tanh(y);
    default: return y;
  }
}

void act_row(float* y, int n, int act) {
  for (int c = 0; c < n; ++c) y[c] = apply_act(y[c], act);
}

void epilogue(const QEpi& ep, const int32_t* tile, int64_t i, int mr, int64_t j, int nr) {
  for (int r = 0; r < mr; ++r) {
    const int32_t* t = tile + r * kTileLd;
    const int64_t row = i + r;
    if (ep.mode == 0) {
      int32_t* o = static_cast<int32_t*>(ep.out) + row * ep.ldo + j;
      std::memcpy(o, t, sizeof(int32_t) * nr);
      continue;
    }
    const float xs = ep.xs[row];
    float y[kTileLd];
    for (int c = 0; c < nr; ++c) y[c] = static_cast<float>(t[c]) / (xs * ep.ws[j + c]);
    if (ep.bias)
      for (int c = 0; c < nr; ++c) y[c] = y[c] + ep.bias[j + c];
    if (ep.act == 1) {
      for (int c = 0; c < nr; ++c) y[c] = y[c] > 0.0f ? y[c] : (y[c] != y[c] ? y[c] : 0.0f);
    } else if (ep.act) {
      act_row(y, nr, ep.act);
    }
    if (ep.mode == 1) {
      std::memcpy(static_cast<float*>(ep.out) + row * ep.ldo + j, y, sizeof(float) * nr);
    } else {
      int8_t* o = static_cast<int8_t*>(ep.out) + row * ep.ldo + j;
      for (int c = 0; c < nr; ++c) o[c] = static_cast<int8_t>(q127(y[c] * ep.out_scale));
    }
  }
}

// ---- u8 im2col ---------------------------------------------------------------------------------

// The patch copies and fills are a few bytes each (KW*C = 9 for a 3x3 RGB kernel row): whole
// 16-byte vectors written inline, not a libc call per piece (GCC turns a plain copy loop into
// one). They read up to 15 bytes past src + n and OVERWRITE up to 15 bytes past d + n; the callers
// write each A row in increasing address order (so the next piece puts those bytes right) and
// keep 16 bytes of slack after both buffers.
inline void copy_bytes_over(uint8_t* d, const uint8_t* src, int64_t n) {
  if (n > 64) {
    std::memcpy(d, src, size_t(n));
    return;
  }
  for (int64_t i = 0; i < 64; i += 16) {
    if (i >= n) break;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
  }
}

inline void fill128_over(uint8_t* d, int64_t n) {
  if (n > 64) {
    std::memset(d, 128, size_t(n));
    return;
  }
  const __m128i v = _mm_set1_epi8(static_cast<char>(0x80));
  for (int64_t i = 0; i < 64; i += 16) {
    if (i >= n) break;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + i), v);
  }
}

// The u8 patches of output rows [r0, r1) (r = n*OH + oh) of the quantized images xu (N, H, W, C;
// u8 = q + 128) into A rows (stride lda: the (kh, kw, c) patch, 128 (= 0) for taps in the zero
// padding and for bytes [K, lda)), and each pixel row's scale (its image's) into xs.
void im2col_u8_rows(const uint8_t* xu, const float* img_scale, const Conv2DShape& s, int64_t r0,
                    int64_t r1, uint8_t* A, int64_t lda, float* xs) {
  const int64_t C = s.C, KWC = s.KW * C, K = s.KH * KWC, rowlen = s.W * C;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t n = r / s.OH, oh = r % s.OH;
    const uint8_t* xi = xu + n * s.H * rowlen;
    const float sc = img_scale[n];
    for (int64_t ow = 0; ow < s.OW; ++ow) {
      const int64_t p = (r - r0) * s.OW + ow;
      uint8_t* d = A + p * lda;
      xs[p] = sc;
      const int64_t iw0 = ow * s.SW - s.pad_left;
      const bool inside = iw0 >= 0 && iw0 + (s.KW - 1) * s.DW < s.W;
      for (int64_t kh = 0; kh < s.KH; ++kh) {
        uint8_t* dk = d + kh * KWC;
        const int64_t ih = oh * s.SH - s.pad_top + kh * s.DH;
        if (ih < 0 || ih >= s.H) {
          fill128_over(dk, KWC);
          continue;
        }
        const uint8_t* xr = xi + ih * rowlen;
        if (inside && s.DW == 1) {
          copy_bytes_over(dk, xr + iw0 * C, KWC);  // the window row is contiguous
          continue;
        }
        for (int64_t kw = 0; kw < s.KW; ++kw) {
          const int64_t iw = iw0 + kw * s.DW;
          if (iw < 0 || iw >= s.W)
            fill128_over(dk + kw * C, C);
          else
            copy_bytes_over(dk + kw * C, xr + iw * C, C);
        }
      }
      fill128_over(d + K, lda - K);
    }
  }
}

// ---- GEMM --------------------------------------------------------------------------------------

constexpr int64_t kNCP = 16;   // panels per B block (256 columns)
constexpr int64_t kMC = 192;   // rows per A block

// Rows [m0, m1) x panels [p0, p1) of the output on the calling thread.
void run_block(const QKernelSet& ks, const uint8_t* A, int64_t lda, const QPacked& w,
               const QEpi& ep, int64_t m0, int64_t m1, int64_t p0, int64_t p1) {
  alignas(64) int32_t tile[kQMaxMR * kTileLd];
  const int64_t kg = k4(w.K) / 4;  // may be 0 (lda is >= 4 only for the buffer's sake)
  const int64_t bstride = kg * 64;
  const int MR = ks.MR, NV = ks.NV;
  const qepi_fn epi = ks.epi ? ks.epi : &epilogue;
  for (int64_t jb = p0; jb < p1; jb += kNCP) {
    const int64_t je = std::min(p1, jb + kNCP);
    for (int64_t ib = m0; ib < m1; ib += kMC) {
      const int64_t ie = std::min(m1, ib + kMC);
      // The block's panels in near-equal groups of <= NV (4 panels with NV = 3: 2 + 2, not
      // 3 + 1, whose 1-panel tile would waste most of its loads).
      const int64_t ng = (je - jb + NV - 1) / NV;
      for (int64_t q = 0; q < ng; ++q) {
        const int64_t jr = jb + (je - jb) * q / ng;
        const int nv = static_cast<int>(jb + (je - jb) * (q + 1) / ng - jr);
        const int64_t j = jr * 16;
        const int nr = static_cast<int>(std::min<int64_t>(16 * nv, w.N - j));
        const int8_t* B = w.panels + jr * bstride;
        for (int64_t i = ib; i < ie; i += MR) {
          const int mr = static_cast<int>(std::min<int64_t>(MR, ie - i));
          ks.ukr[mr - 1][nv - 1](kg, A + i * lda, lda, B, bstride, w.comp + j, tile);
          epi(ep, tile, i, mr, j, nr);
        }
      }
    }
  }
  if (ks.finish) ks.finish();
}

constexpr double kParallelOps = 4.0e6;  // M*N*K below: one thread

// Thread grid for M rows x P panels: tm x tn == T with the least work for the busiest thread.
void choose_grid(const QKernelSet& ks, int64_t M, int64_t P, int64_t K, int T, int& tm, int& tn) {
  const int64_t pm = (M + ks.MR - 1) / ks.MR, pn = (P + ks.NV - 1) / ks.NV;
  tm = T;
  double best = 1e300;
  for (int a = T; a >= 1; --a) {
    if (T % a) continue;
    const int b = T / a;
    const double rows = double((pm + a - 1) / a) * ks.MR;
    const double cols = double((pn + b - 1) / b) * ks.NV * 16;
    const double cost = rows * cols * double(K) + 16.0 * (rows + cols) * double(K);
    if (cost < best * 0.999) best = cost, tm = a;
  }
  tn = T / tm;
}

// The whole product on T threads; prep(r0, r1) first fills A rows [r0, r1)
// (all threads prepare a share of the rows, then a barrier, then the GEMM).
template <class Prep>
void run_gemm(const QKernelSet& ks, const uint8_t* A, int64_t lda, int64_t M, const QPacked& w,
              const QEpi& ep, const Prep& prep) {
  const int64_t P = (w.N + 15) / 16;
  int T = get_num_threads();
  if (double(M) * double(w.N) * double(std::max<int64_t>(w.K, 1)) < kParallelOps) T = 1;
  if (T > 1 && omp_in_parallel()) T = 1;
  if (T <= 1) {
    prep(0, M);
    run_block(ks, A, lda, w, ep, 0, M, 0, P);
    return;
  }
  int tm, tn;
  choose_grid(ks, M, P, w.K, T, tm, tn);
  const int64_t pm = (M + ks.MR - 1) / ks.MR, pn = (P + ks.NV - 1) / ks.NV;
#pragma omp parallel num_threads(T)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    // Preparation: rows split evenly over the threads actually running.
    prep(M * t / nt, M * (t + 1) / nt);
#pragma omp barrier
    if (nt != T) {
      if (t == 0) run_block(ks, A, lda, w, ep, 0, M, 0, P);
    } else {
      const int ti = t / tn, tj = t % tn;
      const int64_t r0 = std::min<int64_t>(M, pm * ti / tm * ks.MR);
      const int64_t r1 = std::min<int64_t>(M, pm * (ti + 1) / tm * ks.MR);
      const int64_t c0 = std::min<int64_t>(P, pn * tj / tn * ks.NV);
      const int64_t c1 = std::min<int64_t>(P, pn * (tj + 1) / tn * ks.NV);
      if (r0 < r1 && c0 < c1) run_block(ks, A, lda, w, ep, r0, r1, c0, c1);
    }
  }
}

}  // namespace
}  // namespace detail

// ---- public functions --------------------------------------------------------------------------

using namespace detail;

const char* int8_isa() { return active_isa().name; }

bool int8_isa_supported(const char* name) {
  const IsaInfo* i = find_isa(name);
  return i && i->supported();
}

bool set_int8_isa(const char* name) {
  const IsaInfo* i = find_isa(name);
  if (!i || !i->supported()) return false;
  g_isa.store(i, std::memory_order_release);
  return true;
}

void quantize_rows_s8(const float* x, int64_t M, int64_t K, int8_t* q, float* scale) {
  if (M <= 0) return;
  // The kernel set's quantizer (vectorised) into u8 rows of a small per-thread buffer, then
  // u8 ^ 0x80 = the int8 value.
  const QKernelSet& ks = active_isa().kernels();
  const qquant_fn quant = ks.quant ? ks.quant : &quantize_u8;
  const int64_t lda = round_up(std::max<int64_t>(K, 1), 4);
  const bool par = double(M) * double(K) >= 65536.0 && M > 1;
  const int T = par && !omp_in_parallel() ? get_num_threads() : 1;
  if (tl_conv.size() < size_t(T)) tl_conv.resize(T);
  std::vector<uint8_t*> rowbuf(T);
  for (int t = 0; t < T; ++t) rowbuf[t] = static_cast<uint8_t*>(tl_conv[t].get(size_t(lda)));
#pragma omp parallel for schedule(static) num_threads(T) if (T > 1)
  for (int64_t r = 0; r < M; ++r) {
    uint8_t* __restrict__ u = rowbuf[omp_get_thread_num()];
    quant(x + r * K, 0, 1, K, K, -1.0f, u, lda, scale + r);
    int8_t* __restrict__ qr = q + r * K;
    for (int64_t k = 0; k < K; ++k) qr[k] = static_cast<int8_t>(u[k] ^ 0x80u);
  }
}

void qgemm_s8s32(const int8_t* xq, int64_t M, const QPacked& w, int32_t* C) {
  if (M <= 0 || w.N <= 0) return;
  const QKernelSet& ks = kernels_for(w.K);
  const int64_t K = w.K, lda = a_ld(ks, K);
  uint8_t* A = a_buffer(tl_a, ks, M, lda);
  QEpi ep{0, nullptr, nullptr, nullptr, 0, 0.0f, C, w.N, &act_row};
  run_gemm(ks, A, lda, M, w, ep, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int8_t* s = xq + r * K;
      uint8_t* d = A + r * lda;
      for (int64_t k = 0; k < K; ++k) d[k] = static_cast<uint8_t>(s[k]) ^ 0x80u;
      for (int64_t k = K; k < lda; ++k) d[k] = 128;
    }
  });
}

void qdense_s8(const float* x, int64_t M, const QPacked& w, const float* w_scale,
               const float* bias, Act act, float x_scale, float out_scale, void* out) {
  if (M <= 0 || w.N <= 0) return;
  const QKernelSet& ks = kernels_for(w.K);
  const int64_t K = w.K, lda = a_ld(ks, K);
  uint8_t* A = a_buffer(tl_a, ks, M, lda);
  float* xs = static_cast<float*>(tl_s.get(size_t(M) * sizeof(float)));
  QEpi ep{out_scale > 0.0f ? 2 : 1, xs,   w_scale, bias, static_cast<int>(act),
          out_scale,              out,  w.N,     &act_row};
  const qquant_fn quant = ks.quant ? ks.quant : &quantize_u8;
  run_gemm(ks, A, lda, M, w, ep, [&](int64_t r0, int64_t r1) {
    quant(x, r0, r1, K, K, x_scale, A, lda, xs);
  });
}

void qconv2d_s8(const float* x, const QPacked& w, const float* w_scale, const float* bias, Act act,
                float x_scale, const Conv2DShape& s, float* y) {
  const int64_t rows = s.N * s.OH;  // image rows of output; each gives OW pixel rows
  if (rows <= 0 || s.OW <= 0 || w.N <= 0) return;
  const QKernelSet& ks = kernels_for(w.K);
  const int64_t K = w.K, lda = a_ld(ks, K);
  const int64_t img = s.H * s.W * s.C;
  int T = get_num_threads();
  if (omp_in_parallel()) T = 1;
  const bool big = double(rows) * double(s.OW) * double(K) * double(w.N) >= kParallelOps;
  // 1. Each image quantized once (its own scale, or the static one) into u8 = q + 128, with
  //    16 bytes of slack for the patch copies' whole-vector reads.
  uint8_t* xu = static_cast<uint8_t*>(tl_a.get(size_t(s.N * img) + 16));
  float* img_scale = static_cast<float*>(tl_s.get(size_t(s.N) * sizeof(float)));
  const qquant_fn quant = ks.quant ? ks.quant : &quantize_u8;
  const int Tq = big ? static_cast<int>(std::min<int64_t>(T, s.N)) : 1;
#pragma omp parallel for schedule(static) num_threads(Tq) if (Tq > 1)
  for (int64_t n = 0; n < s.N; ++n) quant(x, n, n + 1, img, img, x_scale, xu, img, img_scale);
  // 2. Chunks of output image rows per task (about 64 KB of u8 patches, at least one row): u8
  //    im2col into the kernels' A layout, then the whole GEMM of the chunk on one thread.
  const int64_t chunk = std::max<int64_t>(1, (64 << 10) / (s.OW * lda));
  const int64_t nchunks = (rows + chunk - 1) / chunk;
  T = big ? static_cast<int>(std::min<int64_t>(T, nchunks)) : 1;
  if (tl_conv.size() < size_t(2 * T)) tl_conv.resize(2 * T);
  std::vector<float*> sbuf(T);
  std::vector<uint8_t*> abuf(T);
  const int64_t pix = chunk * s.OW;
  for (int t = 0; t < T; ++t) {
    abuf[t] = a_buffer(tl_conv[2 * t], ks, pix, lda, 16);
    sbuf[t] = static_cast<float*>(tl_conv[2 * t + 1].get(size_t(pix) * sizeof(float)));
  }
  const int64_t P = (w.N + 15) / 16;
#pragma omp parallel for schedule(dynamic, 1) num_threads(T) if (T > 1)
  for (int64_t c = 0; c < nchunks; ++c) {
    const int t = omp_get_thread_num();
    const int64_t r0 = c * chunk, r1 = std::min(rows, r0 + chunk);
    im2col_u8_rows(xu, img_scale, s, r0, r1, abuf[t], lda, sbuf[t]);
    QEpi ep{1,    sbuf[t], w_scale, bias, static_cast<int>(act), 0.0f, y + r0 * s.OW * w.N,
            w.N, &act_row};
    run_block(ks, abuf[t], lda, w, ep, 0, (r1 - r0) * s.OW, 0, P);
  }
}

}  // namespace nnforge
