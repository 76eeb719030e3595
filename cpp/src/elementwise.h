// Helpers shared by the element-wise CPU kernels (activation.cpp, optim.cpp, pool.cpp, rnn.cpp).
// Internal to the kernels (not a public header).
#pragma once

#include <algorithm>
#include <cstdint>

#include "nnforge/common.h"
#include "thread_pool.h"

// NNF_CLONES: compile a span function for AVX-512, AVX2 and baseline x86-64 (GCC target_clones,
// chosen at load time) so that GCC vectorises it for the CPU it runs on. Off under ASan and on
// compilers/targets without target_clones.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define NNF_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define NNF_CLONES
#endif

namespace nnforge {
namespace detail {

constexpr int64_t kBlock = 16384;  // elements per parallel block (element-wise ops)

// Runs fn(offset, count) over [0, n) in kBlock pieces, threaded when n >= threshold. The pieces
// do not depend on the thread count, so neither do the results.
template <class Fn>
void for_blocks(int64_t n, int64_t threshold, Fn fn) {
  if (n <= 0) return;
  if (n < threshold || get_num_threads() <= 1) {
    fn(int64_t(0), n);
    return;
  }
  const int64_t nb = (n + kBlock - 1) / kBlock;
  detail::parallel_for(0, nb, get_num_threads(), [&](int64_t b) {
    const int64_t o = b * kBlock;
    fn(o, std::min(kBlock, n - o));
  });
}

}  // namespace detail
}  // namespace nnforge
