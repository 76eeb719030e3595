// Shared definitions for nnforge's CPU kernels. Plain C++17: no Python types below the bindings.
#pragma once
#include <cstdint>

namespace nnforge {

// Activation fused into kernel epilogues and used by the activation kernels.
// The integer values are part of the binding API (nnforge._cpu and nnforge._cuda take an int).
enum class Act : int { Linear = 0, ReLU = 1, Sigmoid = 2, Tanh = 3 };

// Threads used by the OpenMP kernels. Results never depend on this number: no kernel splits a
// reduction across threads in a thread-count-dependent way.
int get_num_threads();
void set_num_threads(int n);

// Name of the instruction set the run-time dispatch picked: "avx512", "avx2" or "generic".
const char* cpu_isa();

// Per-core data cache sizes in bytes (0 where unknown), read once at run time: Linux sysfs
// (/sys/devices/system/cpu/cpu0/cache), else CPUID (leaf 4 on Intel, 0x8000001D on AMD).
// NNFORGE_L1D_BYTES / NNFORGE_L2_BYTES override them (tests, or a VM that reports nonsense).
struct CacheSizes {
  int64_t l1d = 0, l2 = 0, l3 = 0;
};
const CacheSizes& cpu_cache_sizes();

}  // namespace nnforge
