// 3x3 stride-1 convolution by Winograd's F(2x2, 3x3) on NHWC (see winograd.h).
//
// Each 2x2 block of output pixels (a tile) is computed from the 4x4 input patch d under it:
//   Y = A^T [ (G g G^T) (.) (B^T d B) ] A      with (.) elementwise over the 16 positions xi,
// and the sum over input channels inside (.) becomes, for every xi, one GEMM
//   M[xi] (tiles x F) = V[xi] (tiles x C) @ U[xi] (C x F),
//   V[xi][p][c] = (B^T d_{p,c} B)[xi],  U[xi][c][f] = (G g_{c,f} G^T)[xi]
// with
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// That is 16 multiplications per tile and channel pair where direct convolution takes 36: 2.25x
// fewer, for the cost of the transforms (additions, linear in C + F rather than C * F).
//
// Blocking: the tiles are cut into blocks whose V and M take about half of this core's L2; each
// thread transforms its block's input patches, runs the 16 GEMMs (sgemm, single-threaded inside
// the parallel loop) and transforms the products back into y, so V and M never leave L2. A tile's
// output depends on its own patch and on U alone, and sgemm's per-element sums depend only on C,
// so the result is bitwise the same for any block size and thread count. It differs from
// im2col + GEMM by float32 rounding (the transforms add and halve; see the tests for the bound).
//
// The transforms are loops over the channel axis (contiguous in NHWC), compiled for AVX-512,
// AVX2 and plain x86-64 and picked at load time (target_clones).
#include "winograd.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <vector>

#include "nnforge/activation.h"
#include "nnforge/gemm.h"
#include "thread_pool.h"

namespace nnforge {
namespace {

constexpr int64_t kMinChannels = 16;  // input channels and filters, at least
constexpr int64_t kMinTiles = 4;      // output tiles per image, at least
constexpr int64_t kMinBlock = 4;      // tiles per block, at least
constexpr int64_t kTinyMNK = 4096;    // sgemm's tiny path (direct loops) at or below this M*N*K

std::atomic<bool> g_winograd{true};

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define NNF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NNF_CLONES
#endif

// U[xi][c][f] = (G g G^T)[xi] for g = w[:, :, c, f] (w: 3 x 3 x C x F).
NNF_CLONES void transform_filter(const float* w, float* U, int64_t C, int64_t F) {
  const int64_t CF = C * F;
  for (int64_t c = 0; c < C; ++c) {
    const float* g[3][3];
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) g[i][j] = w + (i * 3 + j) * CF + c * F;
    float* u[16];
    for (int x = 0; x < 16; ++x) u[x] = U + x * CF + c * F;
#pragma omp simd
    for (int64_t f = 0; f < F; ++f) {
      float t[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        const float g0 = g[0][j][f], g1 = g[1][j][f], g2 = g[2][j][f];
        t[0][j] = g0;
        t[1][j] = 0.5f * (g0 + g1 + g2);
        t[2][j] = 0.5f * (g0 - g1 + g2);
        t[3][j] = g2;
      }
      for (int i = 0; i < 4; ++i) {  // (G g) G^T
        const float t0 = t[i][0], t1 = t[i][1], t2 = t[i][2];
        u[i * 4 + 0][f] = t0;
        u[i * 4 + 1][f] = 0.5f * (t0 + t1 + t2);
        u[i * 4 + 2][f] = 0.5f * (t0 - t1 + t2);
        u[i * 4 + 3][f] = t2;
      }
    }
  }
}

// V[xi][p][c] = (B^T d B)[xi] for the 4x4 patch d whose rows are the C-vectors rows[0..15]
// (row-major over the patch; a zero row where the patch leaves the image). v: V + p*C, with the
// positions xi at stride vs. The loops over channels are vectorised (omp simd: the rows,
// v and out never overlap).
NNF_CLONES void transform_input(const float* const* rows, float* __restrict v, int64_t vs,
                                int64_t C) {
  const float *__restrict d00 = rows[0], *__restrict d01 = rows[1], *__restrict d02 = rows[2],
                          *__restrict d03 = rows[3], *__restrict d10 = rows[4],
                          *__restrict d11 = rows[5], *__restrict d12 = rows[6],
                          *__restrict d13 = rows[7], *__restrict d20 = rows[8],
                          *__restrict d21 = rows[9], *__restrict d22 = rows[10],
                          *__restrict d23 = rows[11], *__restrict d30 = rows[12],
                          *__restrict d31 = rows[13], *__restrict d32 = rows[14],
                          *__restrict d33 = rows[15];
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) {
    // B^T d, column by column
    const float t00 = d00[c] - d20[c], t01 = d01[c] - d21[c], t02 = d02[c] - d22[c],
                t03 = d03[c] - d23[c];
    const float t10 = d10[c] + d20[c], t11 = d11[c] + d21[c], t12 = d12[c] + d22[c],
                t13 = d13[c] + d23[c];
    const float t20 = d20[c] - d10[c], t21 = d21[c] - d11[c], t22 = d22[c] - d12[c],
                t23 = d23[c] - d13[c];
    const float t30 = d10[c] - d30[c], t31 = d11[c] - d31[c], t32 = d12[c] - d32[c],
                t33 = d13[c] - d33[c];
    // (B^T d) B, row by row
    v[0 * vs + c] = t00 - t02;
    v[1 * vs + c] = t01 + t02;
    v[2 * vs + c] = t02 - t01;
    v[3 * vs + c] = t01 - t03;
    v[4 * vs + c] = t10 - t12;
    v[5 * vs + c] = t11 + t12;
    v[6 * vs + c] = t12 - t11;
    v[7 * vs + c] = t11 - t13;
    v[8 * vs + c] = t20 - t22;
    v[9 * vs + c] = t21 + t22;
    v[10 * vs + c] = t22 - t21;
    v[11 * vs + c] = t21 - t23;
    v[12 * vs + c] = t30 - t32;
    v[13 * vs + c] = t31 + t32;
    v[14 * vs + c] = t32 - t31;
    v[15 * vs + c] = t31 - t33;
  }
}

// out[0..3] (the tile's 2x2 output pixels, row-major; F floats each) = A^T m A + bias, relu if
// asked, for the products m[xi] = M[xi][p] (m: M + p*F, positions at stride ms).
// (Inlined into each ISA clone of transform_output, which it is compiled for.)
template <bool Relu>
__attribute__((always_inline)) inline void transform_output_t(const float* __restrict m,
                                                              int64_t ms, const float* bias,
                                                              float* const* out, int64_t F) {
  float *__restrict o0 = out[0], *__restrict o1 = out[1], *__restrict o2 = out[2],
                    *__restrict o3 = out[3];
#pragma omp simd
  for (int64_t f = 0; f < F; ++f) {
    // A^T m, column by column
    const float m00 = m[0 * ms + f], m01 = m[1 * ms + f], m02 = m[2 * ms + f],
                m03 = m[3 * ms + f], m10 = m[4 * ms + f], m11 = m[5 * ms + f],
                m12 = m[6 * ms + f], m13 = m[7 * ms + f], m20 = m[8 * ms + f],
                m21 = m[9 * ms + f], m22 = m[10 * ms + f], m23 = m[11 * ms + f],
                m30 = m[12 * ms + f], m31 = m[13 * ms + f], m32 = m[14 * ms + f],
                m33 = m[15 * ms + f];
    const float a0 = m00 + m10 + m20, a1 = m01 + m11 + m21, a2 = m02 + m12 + m22,
                a3 = m03 + m13 + m23;
    const float b0 = m10 - m20 - m30, b1 = m11 - m21 - m31, b2 = m12 - m22 - m32,
                b3 = m13 - m23 - m33;
    const float bf = bias ? bias[f] : 0.0f;
    float y0 = a0 + a1 + a2 + bf, y1 = a1 - a2 - a3 + bf;
    float y2 = b0 + b1 + b2 + bf, y3 = b1 - b2 - b3 + bf;
    if (Relu) {
      y0 = std::max(y0, 0.0f);
      y1 = std::max(y1, 0.0f);
      y2 = std::max(y2, 0.0f);
      y3 = std::max(y3, 0.0f);
    }
    o0[f] = y0;
    o1[f] = y1;
    o2[f] = y2;
    o3[f] = y3;
  }
}

NNF_CLONES void transform_output(const float* m, int64_t ms, const float* bias, bool relu,
                                 float* const* out, int64_t F) {
  if (relu)
    transform_output_t<true>(m, ms, bias, out, F);
  else
    transform_output_t<false>(m, ms, bias, out, F);
}

// Per-thread scratch, grown on demand and kept for the next call.
template <int Slot>
float* scratch(int64_t floats) {
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < floats) buf.assign(static_cast<size_t>(floats), 0.0f);
  return buf.data();
}

// The number of blocks the tiles are cut into (block b: tiles [b*tiles/n, (b+1)*tiles/n)): V and
// M of a block (16 * (C + F) floats per tile) in about half of the L2, a multiple of the thread
// count where there are enough tiles, at least kMinBlock tiles per block (and enough for GEMMs
// above sgemm's tiny path where there are enough tiles; run() pads smaller blocks).
int64_t block_count(int64_t tiles, int64_t C, int64_t F, int T) {
  const int64_t l2 = cpu_cache_sizes().l2 > 0 ? cpu_cache_sizes().l2 : (1 << 20);
  const int64_t per_tile = 16 * (C + F) * static_cast<int64_t>(sizeof(float));
  const int64_t per = std::max<int64_t>(1, l2 / 2 / per_tile);
  int64_t n = (tiles + per - 1) / per;
  n = n < T ? std::min<int64_t>(tiles, T) : (n + T - 1) / T * T;
  const int64_t min_tiles = std::max<int64_t>(kMinBlock, kTinyMNK / (C * F) + 1);
  return std::max<int64_t>(1, std::min(n, tiles / min_tiles));
}

void run(const float* x, const float* U, const float* bias, Act act, float* y,
         const Conv2DShape& s) {
  const int64_t C = s.C, F = s.F;
  const int64_t th = (s.OH + 1) / 2, tw = (s.OW + 1) / 2, per_img = th * tw;
  const int64_t tiles = s.N * per_img;
  const int T = get_num_threads();
  const int64_t nblocks = block_count(tiles, C, F, T);
  const int64_t per = (tiles + nblocks - 1) / nblocks;  // tiles in the largest block
  const bool relu = act == Act::ReLU;
  const int64_t min_rows = kTinyMNK / (C * F) + 1;
  detail::parallel_chunks(nblocks, nblocks > 1 && T > 1 ? T : 1, [&](int64_t b) {
    const int64_t p0 = b * tiles / nblocks, p1 = (b + 1) * tiles / nblocks, P = p1 - p0;
    // The GEMMs run on Pg >= P rows (zero rows below the block's tiles, products discarded) so
    // that they never take sgemm's tiny path, whose arithmetic differs: a tile's result is then
    // the same whatever block it falls in.
    const int64_t Pg = std::max(P, min_rows);
    float* V = scratch<0>(16 * std::max(per, min_rows) * C);
    float* M = scratch<1>(16 * std::max(per, min_rows) * F);
    for (int xi = 0; xi < 16 && Pg > P; ++xi)
      std::memset(V + (xi * Pg + P) * C, 0, static_cast<size_t>((Pg - P) * C) * sizeof(float));
    const float* zero = scratch<2>(C);            // stays zero: never written
    float* sink = scratch<3>(F);                  // outputs past the image's edge
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / per_img, t = p % per_img;
      const int64_t ih0 = (t / tw) * 2 - s.pad_top, iw0 = (t % tw) * 2 - s.pad_left;
      const float* rows[16];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
          const int64_t ih = ih0 + i, iw = iw0 + j;
          rows[i * 4 + j] = (ih >= 0 && ih < s.H && iw >= 0 && iw < s.W)
                                ? x + ((n * s.H + ih) * s.W + iw) * C
                                : zero;
        }
      transform_input(rows, V + (p - p0) * C, Pg * C, C);
    }
    for (int xi = 0; xi < 16; ++xi)
      sgemm(false, false, Pg, F, C, 1.0f, V + xi * Pg * C, C, U + xi * C * F, F, 0.0f,
            M + xi * Pg * F, F);
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t n = p / per_img, t = p % per_img;
      const int64_t oh0 = (t / tw) * 2, ow0 = (t % tw) * 2;
      float* out[4];
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) {
          const int64_t oh = oh0 + i, ow = ow0 + j;
          out[i * 2 + j] =
              (oh < s.OH && ow < s.OW) ? y + ((n * s.OH + oh) * s.OW + ow) * F : sink;
        }
      transform_output(M + (p - p0) * F, Pg * F, bias, relu, out, F);
      if (act != Act::Linear && !relu)
        for (int k = 0; k < 4; ++k)
          if (out[k] != sink) activation_forward(act, out[k], out[k], F);
    }
  });
}

}  // namespace

namespace detail {

bool winograd_applies(const Conv2DShape& s) {
  return g_winograd.load(std::memory_order_relaxed) && s.KH == 3 && s.KW == 3 && s.SH == 1 &&
         s.SW == 1 && s.DH == 1 && s.DW == 1 && s.C >= kMinChannels && s.F >= kMinChannels &&
         ((s.OH + 1) / 2) * ((s.OW + 1) / 2) >= kMinTiles;
}

std::vector<float> winograd_filter(const float* w, int64_t C, int64_t F) {
  std::vector<float> U(static_cast<size_t>(16 * C * F));
  transform_filter(w, U.data(), C, F);
  return U;
}

void winograd_conv3x3_transformed(const float* x, const float* U, const float* bias, Act act,
                                  float* y, const Conv2DShape& s) {
  run(x, U, bias, act, y, s);
}

void winograd_conv3x3(const float* x, const float* w, const float* bias, Act act, float* y,
                      const Conv2DShape& s) {
  const std::vector<float> U = winograd_filter(w, s.C, s.F);
  run(x, U.data(), bias, act, y, s);
}

bool winograd_conv3x3_backward_input(const float* dy, const float* w, float* dx,
                                     const Conv2DShape& s) {
  // dx = conv(dy padded by KH-1-pad, w rotated 180 degrees with C and F swapped), output H x W.
  Conv2DShape t = s;
  t.H = s.OH;
  t.W = s.OW;
  t.C = s.F;
  t.F = s.C;
  t.pad_top = s.KH - 1 - s.pad_top;
  t.pad_left = s.KW - 1 - s.pad_left;
  t.OH = s.H;
  t.OW = s.W;
  if (!winograd_applies(t) || t.pad_top < 0 || t.pad_left < 0) return false;
  std::vector<float> wr(static_cast<size_t>(9 * s.C * s.F));
  for (int64_t kh = 0; kh < 3; ++kh)
    for (int64_t kw = 0; kw < 3; ++kw)
      for (int64_t c = 0; c < s.C; ++c)
        for (int64_t f = 0; f < s.F; ++f)
          wr[static_cast<size_t>(((kh * 3 + kw) * s.F + f) * s.C + c)] =
              w[((2 - kh) * 3 + (2 - kw)) * s.C * s.F + c * s.F + f];
  winograd_conv3x3(dy, wr.data(), nullptr, Act::Linear, dx, t);
  return true;
}

}  // namespace detail

void set_winograd(bool on) { g_winograd.store(on, std::memory_order_relaxed); }
bool get_winograd() { return g_winograd.load(std::memory_order_relaxed); }

}  // namespace nnforge
