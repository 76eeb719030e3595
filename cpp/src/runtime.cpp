// Thread count, run-time instruction-set detection and the per-core cache sizes.
#include <cpuid.h>
#include <omp.h>
#include <sched.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

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

// "48K", "2048K", "105M" (sysfs cache size) -> bytes; 0 if unreadable.
int64_t parse_size(const char* text) {
  char* end = nullptr;
  const long long v = std::strtoll(text, &end, 10);
  if (end == text || v <= 0) return 0;
  if (*end == 'K') return v * 1024;
  if (*end == 'M') return v * 1024 * 1024;
  if (*end == 'G') return v * 1024 * 1024 * 1024;
  return v;
}

bool read_line(const std::string& path, char* buf, int n) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  const bool ok = std::fgets(buf, n, f) != nullptr;
  std::fclose(f);
  return ok;
}

// sysfs: cpu0's cache leaves (level, type, size).
bool sysfs_caches(CacheSizes& c) {
  bool any = false;
  for (int i = 0; i < 8; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    char level[16], type[32], size[32];
    if (!read_line(dir + "level", level, sizeof level) || !read_line(dir + "type", type, sizeof type) ||
        !read_line(dir + "size", size, sizeof size))
      continue;
    if (std::strncmp(type, "Instruction", 11) == 0) continue;
    const int64_t bytes = parse_size(size);
    switch (std::atoi(level)) {
      case 1: c.l1d = bytes; break;
      case 2: c.l2 = bytes; break;
      case 3: c.l3 = bytes; break;
      default: break;
    }
    any = any || bytes > 0;
  }
  return any;
}

// CPUID deterministic cache parameters: leaf 4 (Intel) or 0x8000001D (AMD), same layout.
void cpuid_caches(CacheSizes& c) {
  unsigned a, b, cx, d;
  if (!__get_cpuid(0, &a, &b, &cx, &d)) return;
  const bool amd = b == 0x68747541;  // "Auth"enticAMD
  const unsigned leaf = amd ? 0x8000001Du : 4u;
  if (amd) {
    if (!__get_cpuid(0x80000000u, &a, &b, &cx, &d) || a < leaf) return;
  } else if (a < leaf) {
    return;
  }
  for (unsigned i = 0; i < 8; ++i) {
    __cpuid_count(leaf, i, a, b, cx, d);
    const unsigned type = a & 0x1f;  // 0: no more caches, 1: data, 2: instruction, 3: unified
    if (type == 0) break;
    if (type == 2) continue;
    const int64_t bytes = int64_t((b >> 22) + 1) * (((b >> 12) & 0x3ff) + 1) * ((b & 0xfff) + 1) *
                          (int64_t(cx) + 1);
    switch ((a >> 5) & 7) {
      case 1: c.l1d = bytes; break;
      case 2: c.l2 = bytes; break;
      case 3: c.l3 = bytes; break;
      default: break;
    }
  }
}

int64_t env_bytes(const char* name, int64_t fallback) {
  if (const char* env = std::getenv(name)) {
    const int64_t v = parse_size(env);
    if (v > 0) return v;
  }
  return fallback;
}

CacheSizes detect_caches() {
  CacheSizes c;
  if (!sysfs_caches(c)) cpuid_caches(c);
  c.l1d = env_bytes("NNFORGE_L1D_BYTES", c.l1d);
  c.l2 = env_bytes("NNFORGE_L2_BYTES", c.l2);
  return c;
}

}  // namespace

const CacheSizes& cpu_cache_sizes() {
  static const CacheSizes c = detect_caches();
  return c;
}

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
