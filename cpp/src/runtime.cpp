// Thread count, the chunk pool (thread_pool.h), run-time instruction-set detection and the
// per-core cache sizes.
#include <cpuid.h>
#include <immintrin.h>
#include <linux/futex.h>
#include <omp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "nnforge/common.h"
#include "thread_pool.h"

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

namespace detail {
thread_local bool tl_in_chunk = false;

namespace {

void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr,
          nullptr, 0);
}
void futex_wake_all(std::atomic<uint32_t>* word) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
}

constexpr uint32_t kNoChunks = 0xffffffffu;  // claim counter of a job being set up
// The caller's wait for claimed chunks: spin this many pause instructions (a few microseconds,
// about as long as a futex wake-up costs), then sleep.
constexpr int kCallerSpin = 256;

// One job at a time (the caller holds `busy`). state = generation << 32 | next unclaimed chunk:
// a claim is a compare-exchange on both, so a worker holding an old generation can never take a
// chunk of a newer job. A job's fields are written while its state says kNoChunks and are not
// rewritten before every chunk of it has completed, so whoever claims a chunk reads its job.
struct Pool {
  std::mutex busy;
  std::atomic<uint64_t> state{kNoChunks};
  std::atomic<uint32_t> wake{0};  // futex word idle workers sleep on: bumped for every job
  std::atomic<uint32_t> done{0};  // chunks of the current job completed (the caller's futex word)
  std::atomic<uint32_t> caller_sleeping{0};
  ChunkFn fn = nullptr;
  void* ctx = nullptr;
  std::atomic<uint32_t> n{0};
  std::atomic<int> threads{0};  // participants: the caller (0) and workers 1 .. threads-1
  int workers = 0;  // started so far (touched by the caller only, under busy)
};

Pool* g_pool = nullptr;
std::once_flag g_pool_once;

// Marks this thread as running chunks while it lives (get_num_threads() is 1 meanwhile).
struct InChunk {
  bool outer = tl_in_chunk;
  InChunk() { tl_in_chunk = true; }
  ~InChunk() { tl_in_chunk = outer; }
};

// Claims and runs chunks of generation g until none is left (or the job is no longer g).
// noexcept: an exception escaping a chunk ends the process, as one escaping an OpenMP region
// does (a job left half done could not be waited for).
void work_on(Pool& pool, uint64_t s) noexcept {
  const uint64_t g = s >> 32;
  const uint32_t n = pool.n.load(std::memory_order_relaxed);  // g's, or the claim fails
  while ((s >> 32) == g && static_cast<uint32_t>(s) < n) {
    if (!pool.state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel,
                                          std::memory_order_acquire))
      continue;
    {
      InChunk in_chunk;
      pool.fn(pool.ctx, static_cast<int64_t>(static_cast<uint32_t>(s)));
    }
    if (pool.done.fetch_add(1, std::memory_order_seq_cst) + 1 == n &&
        pool.caller_sleeping.load(std::memory_order_seq_cst))
      futex_wake_all(&pool.done);
    s = pool.state.load(std::memory_order_acquire);
  }
}

void worker_main(Pool* pool, int index) {
  pthread_setname_np(pthread_self(), "nnforge-pool");  // as top and gdb show it
  uint32_t seen = 0;
  for (;;) {
    uint32_t w;
    while ((w = pool->wake.load(std::memory_order_acquire)) == seen) futex_wait(&pool->wake, seen);
    seen = w;
    const uint64_t s = pool->state.load(std::memory_order_acquire);
    if (index < pool->threads.load(std::memory_order_relaxed)) work_on(*pool, s);
  }
}

// A forked child has none of the parent's workers: it starts a pool of its own.
void pool_after_fork() { g_pool = new Pool; }

}  // namespace

bool in_parallel_section() { return tl_in_chunk || omp_in_parallel(); }

void run_chunks(int64_t n, int threads, ChunkFn fn, void* ctx) {
  std::call_once(g_pool_once, [] {
    g_pool = new Pool;  // never destroyed: workers may still sleep on it at exit
    pthread_atfork(nullptr, nullptr, pool_after_fork);
  });
  Pool& pool = *g_pool;
  std::unique_lock<std::mutex> lock(pool.busy, std::try_to_lock);
  if (!lock.owns_lock() || n >= kNoChunks) {  // another thread's job runs: no waiting for it
    InChunk in_chunk;
    for (int64_t c = 0; c < n; ++c) fn(ctx, c);
    return;
  }
  threads = static_cast<int>(std::min<int64_t>(threads, n));
  while (pool.workers < threads - 1) {
    try {
      std::thread(worker_main, &pool, pool.workers + 1).detach();
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the caller and the workers there are do it all
    }
    ++pool.workers;
  }
  const uint64_t g = (pool.state.load(std::memory_order_relaxed) >> 32) + 1;
  pool.state.store(g << 32 | kNoChunks, std::memory_order_seq_cst);
  pool.fn = fn;
  pool.ctx = ctx;
  pool.n.store(static_cast<uint32_t>(n), std::memory_order_relaxed);
  pool.threads.store(threads, std::memory_order_relaxed);
  pool.done.store(0, std::memory_order_relaxed);
  pool.state.store(g << 32, std::memory_order_release);
  pool.wake.fetch_add(1, std::memory_order_release);
  futex_wake_all(&pool.wake);
  work_on(pool, g << 32);
  const uint32_t total = static_cast<uint32_t>(n);
  for (int i = 0; i < kCallerSpin && pool.done.load(std::memory_order_acquire) != total; ++i)
    _mm_pause();
  uint32_t d;
  if ((d = pool.done.load(std::memory_order_acquire)) != total) {
    pool.caller_sleeping.store(1, std::memory_order_seq_cst);
    while ((d = pool.done.load(std::memory_order_seq_cst)) != total) futex_wait(&pool.done, d);
    pool.caller_sleeping.store(0, std::memory_order_relaxed);
  }
}

}  // namespace detail

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
  if (detail::tl_in_chunk) return 1;  // kernels called from a pool chunk stay on its thread
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
