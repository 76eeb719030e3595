// Thread count and run-time instruction-set detection.
#include <omp.h>
#include <sched.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "nnforge/common.h"

namespace nnforge {
namespace {

int affinity_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n >= 1) return n;
  }
  int n = omp_get_num_procs();
  return n >= 1 ? n : 1;
}

std::atomic<int> g_threads{0};  // 0: not initialised yet

const char* detect_isa() {
  __builtin_cpu_init();
  bool has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  bool has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const char* best = has512 ? "avx512" : has2 ? "avx2" : "generic";
  // NNFORGE_ISA may force a lower instruction set (never a higher one than the CPU has).
  if (const char* env = std::getenv("NNFORGE_ISA")) {
    if (std::strcmp(env, "generic") == 0) return "generic";
    if (std::strcmp(env, "avx2") == 0 && has2) return "avx2";
    if (std::strcmp(env, "avx512") == 0 && has512) return "avx512";
  }
  return best;
}

}  // namespace

// Default thread count: the cores this process may use, or fewer when OMP_NUM_THREADS says so.
static int default_threads() {
  int n = affinity_cores();
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && v >= 1 && v < n) n = static_cast<int>(v);
  }
  return n;
}

int get_num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n <= 0) {
    n = default_threads();
    int expected = 0;
    if (!g_threads.compare_exchange_strong(expected, n)) n = expected;
  }
  return n;
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  g_threads.store(n, std::memory_order_relaxed);
  omp_set_num_threads(n);
}

const char* cpu_isa() {
  static const char* isa = detect_isa();
  return isa;
}

}  // namespace nnforge
