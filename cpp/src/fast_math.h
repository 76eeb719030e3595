// Vectorisable float exp / sigmoid / tanh shared by the element-wise activation kernels
// (activation.cpp) and the fused recurrent gates (rnn.cpp), so both round alike. exp() is a
// Cephes-style polynomial (max rel. error ~2 ulp): libm's expf does not vectorise without
// -ffast-math. Internal to the kernels (not a public header).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace nnforge {
namespace detail {

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// exp(x) for float, vectorisable. Inputs are clamped to [-87, 88.376]; NaN propagates.
inline float fast_exp(float x) {
  const float lo = -87.0f, hi = 88.3762626647949f;
  float xc = x > lo ? x : lo;  // NaN -> lo (made NaN again at the end)
  xc = xc < hi ? xc : hi;
  const float log2e = 1.44269504088896341f;
  const float magic = 12582912.0f;  // 1.5 * 2^23: round-to-nearest trick
  float nf = (xc * log2e + magic) - magic;
  float r = xc - nf * 0.693359375f;
  r = r + nf * 2.12194440e-4f;
  float z = r * r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * z + r + 1.0f;
  int32_t n = static_cast<int32_t>(nf);  // in [-126, 128) after the clamp
  float scale = bits_to_float(static_cast<uint32_t>(n + 127) << 23);
  float y = p * scale;
  return x != x ? x : y;
}

inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }

inline float fast_tanh(float x) {
  float t = std::fabs(x);
  // |x| < 0.25: odd Taylor polynomial (truncation error < 3e-10 relative).
  float x2 = x * x;
  float poly = -1382.0f / 155925.0f;
  poly = poly * x2 + 62.0f / 2835.0f;
  poly = poly * x2 + -17.0f / 315.0f;
  poly = poly * x2 + 2.0f / 15.0f;
  poly = poly * x2 + -1.0f / 3.0f;
  float small = x + x * x2 * poly;
  // otherwise (1 - e) / (1 + e) with e = exp(-2|x|), sign restored.
  float e = fast_exp(-2.0f * t);
  float big = (1.0f - e) / (1.0f + e);
  big = x < 0.0f ? -big : big;
  float y = t < 0.25f ? small : big;
  return x != x ? x : y;
}

}  // namespace detail
}  // namespace nnforge
