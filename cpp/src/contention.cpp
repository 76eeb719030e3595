// Load sampling for the thread pool's wait policy (contention.h).
#include "contention.h"

#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

namespace nnforge {
namespace detail {
namespace {

constexpr int64_t kSampleNs = 2000000;  // 2 ms between samples: a read costs ~3 us
constexpr double kKeep = 0.75;          // the average keeps 3/4 of its value per sample

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int read_runnable() {
  const int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[128];
  const ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  return parse_loadavg_runnable(buf);
}

int process_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

std::atomic<int64_t> g_last_ns{0};
std::atomic<double> g_average{0.0};
std::atomic<bool> g_readable{true};

}  // namespace

int parse_loadavg_runnable(const char* text) {
  // "0.68 1.39 1.51 3/93 17828": skip three fields, then digits up to '/'.
  const char* p = text;
  for (int field = 0; field < 3; ++field) {
    while (*p == ' ') ++p;
    if (!*p) return -1;
    while (*p && *p != ' ') ++p;
  }
  while (*p == ' ') ++p;
  if (*p < '0' || *p > '9') return -1;
  long v = 0;
  while (*p >= '0' && *p <= '9') {
    v = v * 10 + (*p - '0');
    if (v > 1000000000L) return -1;
    ++p;
  }
  return *p == '/' ? static_cast<int>(v) : -1;
}

double others_runnable(int own) {
  if (!g_readable.load(std::memory_order_relaxed)) return -1.0;
  const int64_t t = now_ns();
  int64_t last = g_last_ns.load(std::memory_order_relaxed);
  if (t - last >= kSampleNs &&
      g_last_ns.compare_exchange_strong(last, t, std::memory_order_relaxed)) {
    const int r = read_runnable();
    if (r < 0) {
      g_readable.store(false, std::memory_order_relaxed);
      return -1.0;
    }
    const double others = std::max(0, r - std::max(own, 0));
    const double avg = last == 0 ? others
                                 : kKeep * g_average.load(std::memory_order_relaxed) +
                                       (1.0 - kKeep) * others;
    g_average.store(avg, std::memory_order_relaxed);
    return avg;
  }
  return g_average.load(std::memory_order_relaxed);
}

bool cores_contended(int own, int threads) {
  static const int cores = process_cores();
  const double others = others_runnable(own);
  return others >= 0.0 && others > (cores - threads) + 0.5;
}

}  // namespace detail
}  // namespace nnforge
