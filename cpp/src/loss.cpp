// Losses with Keras semantics (see loss.h): per-sample losses and scale * d loss_i / d y_pred.
//
// One sample (row) per task; rows are threaded only for large batches. Row reductions (sums,
// log-sum-exp) are accumulated in double so the loss stays accurate for wide rows.
#include "nnforge/loss.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "nnforge/common.h"
#include "thread_pool.h"

namespace nnforge {
namespace {

constexpr float kEps = 1e-7f;
constexpr float kOneMinusEps = 1.0f - 1e-7f;
constexpr int64_t kParallelWork = 1 << 15;

inline bool threaded(int64_t N, int64_t C) {
  return N > 1 && N * C >= kParallelWork && get_num_threads() > 1;
}

inline float clip(float p) { return p < kEps ? kEps : (p > kOneMinusEps ? kOneMinusEps : p); }
// The clip passes the gradient where its input lies inside [eps, 1 - eps] (as tf.clip_by_value).
inline bool inside(float p) { return p >= kEps && p <= kOneMinusEps; }

inline float row_max(const float* z, int64_t C) {
  float m = z[0];
  for (int64_t j = 1; j < C; ++j) m = z[j] > m ? z[j] : m;
  return m;
}

// This thread's buffer for one row's exp(z - max) (computed once, used by the loss and the
// gradient), grown on demand and kept.
double* row_exps(int64_t C) {
  thread_local std::vector<double> buf;
  if (static_cast<int64_t>(buf.size()) < C) buf.resize(static_cast<size_t>(C));
  return buf.data();
}

// Categorical cross-entropy for one row.
void cce_row(const float* t, const float* p, float* loss, float* g, int64_t C, bool from_logits,
             float scale) {
  if (from_logits) {
    const float m = row_max(p, C);
    double* e = row_exps(C);
    double s = 0.0, st = 0.0, tz = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      e[j] = std::exp(static_cast<double>(p[j] - m));
      s += e[j];
      st += t[j];
      tz += static_cast<double>(t[j]) * (p[j] - m);
    }
    const double lse = std::log(s);
    *loss = static_cast<float>(st * lse - tz);
    if (g) {
      const double inv = 1.0 / s;
      for (int64_t j = 0; j < C; ++j) {
        const double sm = e[j] * inv;
        g[j] = static_cast<float>(scale * (sm * st - t[j]));
      }
    }
    return;
  }
  // Probabilities: q = p / sum(p), c = clip(q), loss = -sum t log c.
  double S = 0.0;
  for (int64_t j = 0; j < C; ++j) S += p[j];
  const float Sf = static_cast<float>(S);
  double l = 0.0;
  for (int64_t j = 0; j < C; ++j) {
    const float q = p[j] / Sf;
    if (t[j] != 0.0f) l -= static_cast<double>(t[j]) * std::log(static_cast<double>(clip(q)));
  }
  *loss = static_cast<float>(l);
  if (g) {
    // dL/dq_i = -t_i / q_i where the clip is inactive, else 0; dq_i/dp_j = (delta_ij - q_i) / S.
    double gq = 0.0;  // sum_i dL/dq_i * q_i
    for (int64_t j = 0; j < C; ++j) {
      const float q = p[j] / Sf;
      if (inside(q) && t[j] != 0.0f) gq += -static_cast<double>(t[j]);  // (-t/q) * q
    }
    for (int64_t j = 0; j < C; ++j) {
      const float q = p[j] / Sf;
      const double dq = (inside(q) && t[j] != 0.0f) ? -static_cast<double>(t[j]) / q : 0.0;
      g[j] = static_cast<float>(scale * (dq - gq) / S);
    }
  }
}

void scce_row(int64_t label, const float* p, float* loss, float* g, int64_t C, bool from_logits,
              float scale) {
  if (from_logits) {
    const float m = row_max(p, C);
    double* e = row_exps(C);
    double s = 0.0;
    for (int64_t j = 0; j < C; ++j) {
      e[j] = std::exp(static_cast<double>(p[j] - m));
      s += e[j];
    }
    *loss = static_cast<float>(std::log(s) - static_cast<double>(p[label] - m));
    if (g) {
      const double inv = 1.0 / s;
      for (int64_t j = 0; j < C; ++j) {
        const double sm = e[j] * inv;
        g[j] = static_cast<float>(scale * (sm - (j == label ? 1.0 : 0.0)));
      }
    }
    return;
  }
  double S = 0.0;
  for (int64_t j = 0; j < C; ++j) S += p[j];
  const float Sf = static_cast<float>(S);
  const float ql = p[label] / Sf;
  *loss = static_cast<float>(-std::log(static_cast<double>(clip(ql))));
  if (g) {
    const bool act = inside(ql);
    const double dql = act ? -1.0 / ql : 0.0;
    const double gq = act ? -1.0 : 0.0;
    for (int64_t j = 0; j < C; ++j)
      g[j] = static_cast<float>(scale * ((j == label ? dql : 0.0) - gq) / S);
  }
}

}  // namespace

void categorical_crossentropy(const float* y_true, const float* y_pred, float* losses,
                              float* grad, int64_t N, int64_t C, bool from_logits, float scale) {
  if (N <= 0) return;
  if (C <= 0) {
    for (int64_t i = 0; i < N; ++i) losses[i] = 0.0f;
    return;
  }
  detail::parallel_for(0, N, threaded(N, C) ? get_num_threads() : 1, [&](int64_t i) {
    cce_row(y_true + i * C, y_pred + i * C, losses + i, grad ? grad + i * C : nullptr, C,
            from_logits, scale);
  });
}

void sparse_categorical_crossentropy(const int64_t* labels, const float* y_pred, float* losses,
                                     float* grad, int64_t N, int64_t C, bool from_logits,
                                     float scale) {
  if (N <= 0 || C <= 0) return;  // C == 0 with N > 0 has no valid label (refused by bindings)
  detail::parallel_for(0, N, threaded(N, C) ? get_num_threads() : 1, [&](int64_t i) {
    const int64_t l = labels[i];
    if (l < 0 || l >= C) {  // unreachable through the bindings; never read out of bounds
      losses[i] = NAN;
      if (grad)
        for (int64_t j = 0; j < C; ++j) grad[i * C + j] = NAN;
      return;
    }
    scce_row(l, y_pred + i * C, losses + i, grad ? grad + i * C : nullptr, C, from_logits, scale);
  });
}

void binary_crossentropy(const float* y_true, const float* y_pred, float* losses, float* grad,
                         int64_t N, int64_t D, bool from_logits, float scale) {
  if (N <= 0) return;
  if (D <= 0) {
    for (int64_t i = 0; i < N; ++i) losses[i] = NAN;  // mean over nothing (as Keras: 0/0)
    return;
  }
  const double invD = 1.0 / static_cast<double>(D);
  const float gs = static_cast<float>(scale * invD);
  detail::parallel_for(0, N, threaded(N, D) ? get_num_threads() : 1, [&](int64_t i) {
    const float* t = y_true + i * D;
    const float* z = y_pred + i * D;
    float* g = grad ? grad + i * D : nullptr;
    double l = 0.0;
    if (from_logits) {
      for (int64_t j = 0; j < D; ++j) {
        const double zj = z[j], tj = t[j];
        l += std::max(zj, 0.0) - zj * tj + std::log1p(std::exp(-std::fabs(zj)));
        if (g) {
          const double sg = zj >= 0 ? 1.0 / (1.0 + std::exp(-zj))
                                    : std::exp(zj) / (1.0 + std::exp(zj));
          g[j] = static_cast<float>(gs * (sg - tj));
        }
      }
    } else {
      for (int64_t j = 0; j < D; ++j) {
        const float p = clip(z[j]);
        const double tj = t[j];
        l -= tj * std::log(static_cast<double>(p)) +
             (1.0 - tj) * std::log(static_cast<double>(1.0f - p));
        if (g)
          g[j] = inside(z[j]) ? static_cast<float>(gs * (-tj / p + (1.0 - tj) / (1.0f - p)))
                              : 0.0f;
      }
    }
    losses[i] = static_cast<float>(l * invD);
  });
}

void mean_squared_error(const float* y_true, const float* y_pred, float* losses, float* grad,
                        int64_t N, int64_t D, float scale) {
  if (N <= 0) return;
  if (D <= 0) {
    for (int64_t i = 0; i < N; ++i) losses[i] = NAN;
    return;
  }
  const float invD = static_cast<float>(1.0 / static_cast<double>(D));
  const float gs = static_cast<float>(2.0 * scale / static_cast<double>(D));
  detail::parallel_for(0, N, threaded(N, D) ? get_num_threads() : 1, [&](int64_t i) {
    const float* t = y_true + i * D;
    const float* p = y_pred + i * D;
    float s = 0.0f;
    for (int64_t j = 0; j < D; ++j) {
      const float d = p[j] - t[j];
      s += d * d;
    }
    losses[i] = s * invD;
    if (grad) {
      float* g = grad + i * D;
      for (int64_t j = 0; j < D; ++j) g[j] = gs * (p[j] - t[j]);
    }
  });
}

}  // namespace nnforge
