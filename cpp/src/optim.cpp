// Optimizer updates with Keras 3's formulas (see optim.h), in place and element-wise.
// Large parameters are split into fixed blocks run with OpenMP; small ones stay single-threaded.
#include "nnforge/optim.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define NNF_HAVE_MXCSR 1
#endif

#include "elementwise.h"
#include "nnforge/common.h"
#include "thread_pool.h"

namespace nnforge {
namespace {

// Parameters from 32K elements up are split over the threads: an update streams four arrays
// (p, g, m, v), and for the seed MLP's 784x128 kernel (1.6 MB of them, more than one core's L2)
// two cores' caches and load bandwidth cut the Adam step from ~68 to ~23 us inside training.
constexpr int64_t kParallelMin = 1 << 15;

// Runs fn(offset, count) over [0, n): one piece per thread (cut at multiples of 16 floats, one
// cache line) when n >= kParallelMin, else one call. for_blocks' fixed 16K blocks leave the
// seed MLP's 100,352-element kernel as 7 blocks, 4 on one thread and 3 on the other; equal
// pieces end together. Each element's arithmetic does not depend on the cut, so neither do
// the results.
template <class Fn>
void for_thread_pieces(int64_t n, Fn fn) {
  const int T = get_num_threads();
  if (n <= 0) return;
  if (n < kParallelMin || T <= 1) {
    fn(int64_t(0), n);
    return;
  }
  const int64_t per = ((n + T - 1) / T + 15) / 16 * 16;
  // One chunk per piece (thread_pool.h): a running thread takes a descheduled one's piece.
  detail::parallel_chunks(T, T, [&](int64_t t) {
    const int64_t o = std::min<int64_t>(n, t * per);
    const int64_t c = std::min<int64_t>(per, n - o);
    if (c > 0) fn(o, c);
  });
}

// Adam's first moment of a weight whose gradient stays zero (an MNIST border pixel's row of the
// first Dense kernel) decays by beta_1 each step into the subnormal range, and on x86 every
// vector instruction touching a subnormal takes a microcode assist: 5% subnormal lanes made the
// seed MLP's 784x128 update 3-5x slower (150 us instead of ~35 us per step). The Adam update
// runs with flush-to-zero and denormals-are-zero, as TensorFlow runs every CPU kernel (Keras's
// reference backend: there a moment below FLT_MIN reads and becomes 0). A subnormal moment moves
// a weight by less than 1e-30, far below the weight's ulp, so the weights come out the same;
// only such moments read 0 instead of a subnormal. Set per block (each OpenMP thread has its own
// MXCSR) and restored after, so nothing else runs with the flags.
class FlushSubnormals {
 public:
#ifdef NNF_HAVE_MXCSR
  FlushSubnormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | 0x8040u); }  // FTZ | DAZ
  ~FlushSubnormals() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
#endif
};

NNF_CLONES void sgd_plain(float* p, const float* g, int64_t n, float lr) {
  for (int64_t i = 0; i < n; ++i) p[i] -= lr * g[i];
}

NNF_CLONES void sgd_momentum(float* p, const float* g, float* v, int64_t n, float lr, float mom,
                             bool nesterov) {
  if (nesterov) {
    for (int64_t i = 0; i < n; ++i) {
      const float vi = mom * v[i] - lr * g[i];
      v[i] = vi;
      p[i] += mom * vi - lr * g[i];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float vi = mom * v[i] - lr * g[i];
      v[i] = vi;
      p[i] += vi;
    }
  }
}

NNF_CLONES void adam_span(float* p, const float* g, float* m, float* v, int64_t n, float alpha,
                          float omb1, float omb2, float eps) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * omb1;
    const float vi = v[i] + (gi * gi - v[i]) * omb2;
    m[i] = mi;
    v[i] = vi;
    p[i] -= alpha * mi / (std::sqrt(vi) + eps);
  }
}

NNF_CLONES void adam_amsgrad_span(float* p, const float* g, float* m, float* v, float* vhat,
                                  int64_t n, float alpha, float omb1, float omb2, float eps) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * omb1;
    const float vi = v[i] + (gi * gi - v[i]) * omb2;
    const float vh = std::max(vhat[i], vi);
    m[i] = mi;
    v[i] = vi;
    vhat[i] = vh;
    p[i] -= alpha * mi / (std::sqrt(vh) + eps);
  }
}

}  // namespace

void sgd_update(float* p, const float* g, float* velocity, int64_t n, float lr, float momentum,
                bool nesterov) {
  if (momentum == 0.0f || velocity == nullptr) {
    for_thread_pieces(n, [&](int64_t o, int64_t c) { sgd_plain(p + o, g + o, c, lr); });
    return;
  }
  for_thread_pieces(n, [&](int64_t o, int64_t c) {
    sgd_momentum(p + o, g + o, velocity + o, c, lr, momentum, nesterov);
  });
}

void adam_update(float* p, const float* g, float* m, float* v, float* vhat, int64_t n, float lr,
                 float beta1, float beta2, float epsilon, int64_t t) {
  const double td = static_cast<double>(t < 1 ? 1 : t);
  const double b1p = std::pow(static_cast<double>(beta1), td);
  const double b2p = std::pow(static_cast<double>(beta2), td);
  const float alpha = static_cast<float>(static_cast<double>(lr) * std::sqrt(1.0 - b2p) / (1.0 - b1p));
  const float omb1 = 1.0f - beta1, omb2 = 1.0f - beta2;
  if (vhat) {
    for_thread_pieces(n, [&](int64_t o, int64_t c) {
      FlushSubnormals flush;
      adam_amsgrad_span(p + o, g + o, m + o, v + o, vhat + o, c, alpha, omb1, omb2, epsilon);
    });
  } else {
    for_thread_pieces(n, [&](int64_t o, int64_t c) {
      FlushSubnormals flush;
      adam_span(p + o, g + o, m + o, v + o, c, alpha, omb1, omb2, epsilon);
    });
  }
}

}  // namespace nnforge
