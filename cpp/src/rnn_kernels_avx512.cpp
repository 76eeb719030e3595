// Fused LSTM step on AVX-512 (compiled with -mavx512f/vl/bw/dq by CMake because of the suffix;
// see rnn_kernels.h for the layout and the arithmetic).
//
// Register tile: kRows batch rows x 16 units x the 4 gates = 24 zmm accumulators, 4 zmm of packed
// weights per k and one broadcast. After the k loop the pre-activations are still in registers:
// the gate arithmetic runs on them and only c_s and h_s (and, in training, the activated gates)
// are stored. exp/sigmoid/tanh are fast_math.h's approximations evaluated with FMAs and refined
// reciprocals (see below): within 1-2 ulp of lstm_fwd_row in rnn.cpp (the portable path).
#include <immintrin.h>

// GCC 12 warns about the undefined vectors inside its own AVX-512 intrinsic headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstdint>
#include <type_traits>

#include "rnn_kernels.h"

namespace nnforge {
namespace detail {
namespace {

constexpr int VL = 16;        // floats per vector: units per block
constexpr int BW = 4 * VL;    // packed floats per k: 16 units of each of the 4 gates
constexpr int kRows = 6;      // rows per register tile: 6 x 4 accumulators

// ---- fast_math.h's functions in vectors -------------------------------------------------------
//
// The same approximations (clamp, Cody-Waite reduction, the degree-5 exp polynomial, tanh's odd
// Taylor polynomial below |x| = 0.25 and (1 - e) / (1 + e) above), evaluated with FMAs and with
// each division as a reciprocal estimate refined by one Newton step (Markstein's quotient
// correction): fewer operations than the scalar formulas' separate products and no vdivps
// (about a third of the gate time with it), and within 1-2 ulp of them (the exp reduction and polynomial with FMA round once where the
// scalar rounds twice; the corrected quotient is the correctly rounded one in nearly all cases).

// a / b for b in [1, 2^128) (b = 1 + e, e = exp(.) >= 0): rcp14 estimate (rel. error < 2^-14),
// q0 = a*y, q = q0 + (a - b*q0)*y. Where 1/b underflows (b > 2^126) the result is 0 or the
// denormal quotient, against a true value below 2^-126 * a.
inline __m512 vdiv(__m512 a, __m512 b) {
  const __m512 y = _mm512_rcp14_ps(b);
  const __m512 q0 = _mm512_mul_ps(a, y);
  const __m512 r = _mm512_fnmadd_ps(b, q0, a);
  return _mm512_fmadd_ps(r, y, q0);
}

inline __m512 vneg(__m512 x) {
  return _mm512_castsi512_ps(
      _mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000u))));
}

// exp of M independent vectors in lockstep: each stage is issued for all M before the next, so
// the M dependency chains (~15 dependent operations of 4 cycles each) overlap in program order
// rather than only within the out-of-order window (one chain at a time measured ~15% slower).
// max/min return their second operand where either is NaN: a NaN stays NaN through the clamp
// and every step below (the scalar clamps it, then puts it back at the end). The reduction:
// round to nearest even, as the scalar's (v + 1.5*2^23) - 1.5*2^23; nf * 0.693359375 is exact
// (9 + 8 significant bits), so the first reduction step is the scalar's.
template <int M>
inline void vexp_n(__m512 (&v)[M]) {
  const __m512 lo = _mm512_set1_ps(-87.0f), hi = _mm512_set1_ps(88.3762626647949f);
  __m512 nf[M], r[M], p[M];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    v[i] = _mm512_min_ps(hi, _mm512_max_ps(lo, v[i]));
    nf[i] = _mm512_roundscale_ps(_mm512_mul_ps(v[i], _mm512_set1_ps(1.44269504088896341f)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) r[i] = _mm512_fnmadd_ps(nf[i], _mm512_set1_ps(0.693359375f), v[i]);
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) r[i] = _mm512_fmadd_ps(nf[i], _mm512_set1_ps(2.12194440e-4f), r[i]);
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i)
    p[i] = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r[i],
                           _mm512_set1_ps(1.3981999507e-3f));
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(8.3334519073e-3f));
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(4.1665795894e-2f));
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(1.6666665459e-1f));
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) p[i] = _mm512_fmadd_ps(p[i], r[i], _mm512_set1_ps(5.0000001201e-1f));
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i)
    p[i] = _mm512_add_ps(_mm512_fmadd_ps(p[i], _mm512_mul_ps(r[i], r[i]), r[i]),
                         _mm512_set1_ps(1.0f));
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) v[i] = _mm512_scalef_ps(p[i], nf[i]);
}

// tanh of M vectors in lockstep: the odd polynomial below |x| = 0.25, (1 - e) / (1 + e) with
// e = exp(-2|x|) and x's sign above; a NaN gives NaN (t < 0.25 is false, the quotient is NaN).
template <int M>
inline void vtanh_n(__m512 (&x)[M]) {
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 e[M];
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) e[i] = _mm512_mul_ps(_mm512_set1_ps(-2.0f), _mm512_abs_ps(x[i]));
  vexp_n<M>(e);
#pragma GCC unroll 8
  for (int i = 0; i < M; ++i) {
    const __m512 x2 = _mm512_mul_ps(x[i], x[i]);
    __m512 poly = _mm512_set1_ps(-1382.0f / 155925.0f);
    poly = _mm512_fmadd_ps(poly, x2, _mm512_set1_ps(62.0f / 2835.0f));
    poly = _mm512_fmadd_ps(poly, x2, _mm512_set1_ps(-17.0f / 315.0f));
    poly = _mm512_fmadd_ps(poly, x2, _mm512_set1_ps(2.0f / 15.0f));
    poly = _mm512_fmadd_ps(poly, x2, _mm512_set1_ps(-1.0f / 3.0f));
    const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(x[i], x2), poly, x[i]);
    const __m512 big = vdiv(_mm512_sub_ps(one, e[i]), _mm512_add_ps(one, e[i]));
    const __m512 sign = _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(x[i]), _mm512_set1_epi32(int(0x80000000u))));
    x[i] = _mm512_mask_blend_ps(
        _mm512_cmp_ps_mask(_mm512_abs_ps(x[i]), _mm512_set1_ps(0.25f), _CMP_LT_OQ),
        _mm512_or_ps(big, sign), small);
  }
}

// One row's gates z = (i, f, g, o) pre-activations in, activations out, in lockstep: the three
// sigmoids' and the tanh's exps as one vexp_n<4>.
// (A NaN pre-activation gives a NaN gate, as in vtanh_n.)
inline void lstm_gates(__m512 (&z)[4]) {
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 e[4] = {vneg(z[0]), vneg(z[1]), _mm512_mul_ps(_mm512_set1_ps(-2.0f), _mm512_abs_ps(z[2])),
                 vneg(z[3])};
  vexp_n<4>(e);
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    if (q == 2) continue;
    const __m512 b = _mm512_add_ps(one, e[q]);
    const __m512 y = _mm512_rcp14_ps(b);
    z[q] = _mm512_fmadd_ps(_mm512_fnmadd_ps(b, y, one), y, y);
  }
  const __m512 x = z[2];
  const __m512 x2 = _mm512_mul_ps(x, x);
  __m512 poly = _mm512_set1_ps(-1382.0f / 155925.0f);
  poly = _mm512_fmadd_ps(poly, x2, _mm512_set1_ps(62.0f / 2835.0f));
  poly = _mm512_fmadd_ps(poly, x2, _mm512_set1_ps(-17.0f / 315.0f));
  poly = _mm512_fmadd_ps(poly, x2, _mm512_set1_ps(2.0f / 15.0f));
  poly = _mm512_fmadd_ps(poly, x2, _mm512_set1_ps(-1.0f / 3.0f));
  const __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(x, x2), poly, x);
  const __m512 big = vdiv(_mm512_sub_ps(one, e[2]), _mm512_add_ps(one, e[2]));
  const __m512 sign = _mm512_castsi512_ps(
      _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000u))));
  z[2] = _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(_mm512_abs_ps(x), _mm512_set1_ps(0.25f), _CMP_LT_OQ),
      _mm512_or_ps(big, sign), small);
}

// ---- packing ------------------------------------------------------------------------------------

inline int64_t blocks(int64_t H) { return (H + VL - 1) / VL; }

// [W; U] of a cell with G gates (W: D x G*H, U: H x G*H, row stride G*H; D may be 0), per
// 16-unit block: for each k, the block's 16 columns of each gate in turn (G*16 floats, zero past
// H). LSTM: G = 4 (rnn_kernels.h's layout); GRU: G = 3.
template <int G>
int64_t packed_gates_size(int64_t K, int64_t H) { return blocks(H) * K * G * VL; }

template <int G>
void pack_gates(const float* W, int64_t D, const float* U, int64_t H, float* out) {
  const int64_t K = D + H, GH = G * H, Wk = G * VL;
  for (int64_t b = 0; b < blocks(H); ++b) {
    float* d = out + b * K * Wk;
    for (int64_t k = 0; k < K; ++k) {
      const float* src = k < D ? W + k * GH : U + (k - D) * GH;
      for (int q = 0; q < G; ++q)
        for (int c = 0; c < VL; ++c) {
          const int64_t j = b * VL + c;
          d[k * Wk + q * VL + c] = j < H ? src[q * H + j] : 0.f;
        }
    }
  }
}

int64_t bias_size(int64_t H) { return blocks(H) * BW; }

void pack_bias(const float* bias, int64_t H, float* out) {
  for (int64_t b = 0; b < blocks(H); ++b)
    for (int q = 0; q < 4; ++q)
      for (int c = 0; c < VL; ++c) {
        const int64_t j = b * VL + c;
        out[b * BW + q * VL + c] = j < H ? bias[q * H + j] : 0.f;
      }
}

// ---- the step -----------------------------------------------------------------------------------

// acc[r][Q_q] += a[r][k] * B[k][q] for k in [0, K): R rows of a (row r at a + r*lda) against the
// packed 16-wide columns q of each k (Wk floats per k; the cell's gates, in the order of Q), each
// accumulator's terms added in increasing k. Returns B past its K rows.
template <int R, int Wk, int... Q>
inline __attribute__((always_inline)) const float* accumulate(__m512 (&acc)[R][4], const float* a,
                                                              int64_t lda, int64_t K,
                                                              const float* B) {
  constexpr int G = sizeof...(Q);
  constexpr int dst[G] = {Q...};
  const float* ar[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) ar[r] = a + r * lda;
  for (int64_t k = 0; k < K; ++k) {
    __m512 b[G];
#pragma GCC unroll 4
    for (int q = 0; q < G; ++q) b[q] = _mm512_load_ps(B + q * VL);
    B += Wk;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 v = _mm512_set1_ps(ar[r][k]);
#pragma GCC unroll 4
      for (int q = 0; q < G; ++q) acc[r][dst[q]] = _mm512_fmadd_ps(v, b[q], acc[r][dst[q]]);
    }
  }
  return B;
}

// Rows [r0, r0+R) x units [j0, j0+16) (m: the units < H) of one step; B: the unit block's weights.
// kX: the x part is in the step (s.D > 0; the sums start from the bias); otherwise (training with
// D = 0) the gates hold the pre-activations x_t W + b. kTrain: the activated gates are stored.
template <int R, bool kTrain, bool kX>
void tile(const LstmStep& s, int64_t r0, int64_t j0, const float* B, const float* bias,
          __mmask16 m) {
  // With the x part, the sums start from the bias (one add fewer per gate than adding it after).
  __m512 acc[R][4];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q)
      acc[r][q] = kX && bias ? _mm512_load_ps(bias + q * VL) : _mm512_setzero_ps();
  if (kX) B = accumulate<R, BW, 0, 1, 2, 3>(acc, s.x + r0 * s.ldx, s.ldx, s.D, B);
  accumulate<R, BW, 0, 1, 2, 3>(acc, s.h + r0 * s.ldh, s.ldh, s.H, B);
  // The gates row by row (four exps in lockstep), c_s stored and kept with o; then tanh(c_s)
  // of all R rows in lockstep and h_s = o * tanh(c_s).
  const int64_t H = s.H;
  __m512 c[R], o[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    __m512 z[4];
    float* g = kTrain ? s.gates + (r0 + r) * s.ldg + j0 : nullptr;
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q)
      z[q] = kX ? acc[r][q] : _mm512_add_ps(acc[r][q], _mm512_maskz_loadu_ps(m, g + q * H));
    lstm_gates(z);
    const __m512 cp = _mm512_maskz_loadu_ps(m, s.cp + (r0 + r) * s.ldcp + j0);
    c[r] = _mm512_add_ps(_mm512_mul_ps(z[1], cp), _mm512_mul_ps(z[0], z[2]));
    o[r] = z[3];
    _mm512_mask_storeu_ps(s.cn + (r0 + r) * s.ldo + j0, m, c[r]);
    if (kTrain) {
      _mm512_mask_storeu_ps(g, m, z[0]);
      _mm512_mask_storeu_ps(g + H, m, z[1]);
      _mm512_mask_storeu_ps(g + 2 * H, m, z[2]);
      _mm512_mask_storeu_ps(g + 3 * H, m, z[3]);
    }
  }
  vtanh_n<R>(c);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
    _mm512_mask_storeu_ps(s.hn + (r0 + r) * s.ldo + j0, m, _mm512_mul_ps(o[r], c[r]));
}

// A step's register tiles: tile(R, r0, b, j0, m) for each 16-unit block b (units j0 = 16*b,
// mask m of those < H), block by block so its packed weights stay in L1, over rows [0, rows) in
// tiles of kRows rows and one of the remaining 1..kRows-1 (R: std::integral_constant<int, .>).
template <class Tile>
inline void over_tiles(int64_t H, int64_t rows, Tile tile) {
  for (int64_t b = 0; b < blocks(H); ++b) {
    const int64_t j0 = b * VL;
    const int64_t left = H - j0;
    const __mmask16 m = left >= VL ? __mmask16(0xFFFF) : __mmask16((1u << left) - 1u);
    int64_t r0 = 0;
    for (; r0 + kRows <= rows; r0 += kRows) tile(std::integral_constant<int, kRows>{}, r0, b, j0, m);
    switch (rows - r0) {
      case 1: tile(std::integral_constant<int, 1>{}, r0, b, j0, m); break;
      case 2: tile(std::integral_constant<int, 2>{}, r0, b, j0, m); break;
      case 3: tile(std::integral_constant<int, 3>{}, r0, b, j0, m); break;
      case 4: tile(std::integral_constant<int, 4>{}, r0, b, j0, m); break;
      case 5: tile(std::integral_constant<int, 5>{}, r0, b, j0, m); break;
      default: break;
    }
  }
}

static_assert(kRows == 6, "over_tiles' remainder switch covers 1..kRows-1 rows");

template <bool kTrain, bool kX>
void step_impl(const LstmStep& s, int64_t rows) {
  const int64_t K = s.D + s.H;
  over_tiles(s.H, rows, [&](auto R, int64_t r0, int64_t b, int64_t j0, __mmask16 m) {
    tile<decltype(R)::value, kTrain, kX>(s, r0, j0, s.packed + b * K * BW,
                                          s.bias ? s.bias + b * BW : nullptr, m);
  });
}

void step(const LstmStep& s, int64_t rows) {
  if (!s.gates)
    step_impl<false, true>(s, rows);
  else if (s.D > 0)
    step_impl<true, true>(s, rows);
  else
    step_impl<true, false>(s, rows);
}


// ---- GRU (reset_after) ------------------------------------------------------------------------

constexpr int GW = 3 * VL;  // packed floats per k: 16 units of each of the 3 gates


void gru_pack_bias(const float* bias, int64_t H, bool train, float* out) {
  for (int64_t b = 0; b < blocks(H); ++b)
    for (int c = 0; c < VL; ++c) {
      const int64_t j = b * VL + c;
      float v[4] = {0.f, 0.f, 0.f, 0.f};
      if (bias && j < H) {
        const float* bi = bias;
        const float* br = bias + 3 * H;
        v[0] = train ? br[j] : bi[j] + br[j];
        v[1] = train ? br[H + j] : bi[H + j] + br[H + j];
        v[2] = train ? 0.f : bi[2 * H + j];
        v[3] = br[2 * H + j];
      }
      for (int q = 0; q < 4; ++q) out[b * BW + q * VL + c] = v[q];
    }
}

template <int R, bool kTrain>
void gru_tile(const GruStep& s, int64_t r0, int64_t j0, const float* B, const float* bias,
              __mmask16 m) {
  __m512 acc[R][4];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) acc[r][q] = _mm512_load_ps(bias + q * VL);
  // x_t's part into (zr_z, zr_r, xh), h's into (zr_z, zr_r, hh)
  if (!kTrain) B = accumulate<R, GW, 0, 1, 2>(acc, s.x + r0 * s.ldx, s.ldx, s.D, B);
  accumulate<R, GW, 0, 1, 3>(acc, s.h + r0 * s.ldh, s.ldh, s.H, B);
  // z, r row by row (two exps in lockstep), the candidate's pre-activation kept with z; then
  // tanh of all R rows in lockstep and h_s = z*h_{s-1} + (1 - z)*cand.
  const int64_t H = s.H;
  const __m512 one = _mm512_set1_ps(1.0f);
  __m512 zz[R], cand[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* g = kTrain ? s.gates + (r0 + r) * s.ldg + j0 : nullptr;
    __m512 e[2], xh;
    if (kTrain) {
      e[0] = _mm512_add_ps(_mm512_maskz_loadu_ps(m, g), acc[r][0]);
      e[1] = _mm512_add_ps(_mm512_maskz_loadu_ps(m, g + H), acc[r][1]);
      xh = _mm512_maskz_loadu_ps(m, g + 2 * H);
      _mm512_mask_storeu_ps(s.aux + (r0 + r) * s.ldaux + j0, m, acc[r][3]);
    } else {
      e[0] = acc[r][0];
      e[1] = acc[r][1];
      xh = acc[r][2];
    }
    e[0] = vneg(e[0]);
    e[1] = vneg(e[1]);
    vexp_n<2>(e);
#pragma GCC unroll 2
    for (int q = 0; q < 2; ++q) {
      const __m512 b = _mm512_add_ps(one, e[q]);
      const __m512 y = _mm512_rcp14_ps(b);
      e[q] = _mm512_fmadd_ps(_mm512_fnmadd_ps(b, y, one), y, y);
    }
    zz[r] = e[0];
    cand[r] = _mm512_add_ps(xh, _mm512_mul_ps(e[1], acc[r][3]));
    if (kTrain) {
      _mm512_mask_storeu_ps(g, m, e[0]);
      _mm512_mask_storeu_ps(g + H, m, e[1]);
    }
  }
  vtanh_n<R>(cand);
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const __m512 hp = _mm512_maskz_loadu_ps(m, s.h + (r0 + r) * s.ldh + j0);
    const __m512 h = _mm512_add_ps(_mm512_mul_ps(zz[r], hp),
                                   _mm512_mul_ps(_mm512_sub_ps(one, zz[r]), cand[r]));
    _mm512_mask_storeu_ps(s.hn + (r0 + r) * s.ldo + j0, m, h);
    if (kTrain) _mm512_mask_storeu_ps(s.gates + (r0 + r) * s.ldg + j0 + 2 * H, m, cand[r]);
  }
}

template <bool kTrain>
void gru_step_impl(const GruStep& s, int64_t rows) {
  const int64_t K = s.D + s.H;
  over_tiles(s.H, rows, [&](auto R, int64_t r0, int64_t b, int64_t j0, __mmask16 m) {
    gru_tile<decltype(R)::value, kTrain>(s, r0, j0, s.packed + b * K * GW, s.bias + b * BW, m);
  });
}

void gru_step(const GruStep& s, int64_t rows) {
  if (s.gates)
    gru_step_impl<true>(s, rows);
  else
    gru_step_impl<false>(s, rows);
}

}  // namespace

const GruKernels* gru_kernels_avx512() {
  static const GruKernels ks{packed_gates_size<3>, pack_gates<3>, bias_size, gru_pack_bias,
                             gru_step};
  return &ks;
}

const LstmKernels* lstm_kernels_avx512() {
  static const LstmKernels ks{"avx512", packed_gates_size<4>, pack_gates<4>, bias_size, pack_bias,
                              step};
  return &ks;
}

}  // namespace detail
}  // namespace nnforge
