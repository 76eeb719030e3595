// AMX-INT8 micro-kernels (qgemm_kernels.h contract; Sapphire Rapids and later). Compiled with
// -mamx-tile -mamx-int8; used only when the CPU has AMX-INT8 and Linux granted this process the
// tile data state (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA), see amx_available()).
//
// The packed weights need no other layout: one k-group of a 16-column panel is 64 bytes (16
// columns x 4 k), exactly one row of an AMX B tile, so 16 consecutive k-groups of a panel are a
// whole B tile (16 rows x 64 bytes, stride 64). An A tile is 16 rows x 64 bytes of the u8 rows.
//
// Micro-tile: up to 32 rows x 2 panels (32 columns): C tiles tmm0..3 (2 x 2 of 16 x 16 int32),
// A tiles tmm4, tmm5 (rows 0-15, 16-31), B tiles tmm6, tmm7 (panels 0, 1). Per 64 k: 2 A and 2 B
// tile loads feed 4 TDPBUSD (16 x 16 x 64 multiply-adds each). All tiles are configured full
// (16 rows x 64 bytes) at a thread's first micro-kernel of a call and released after its last
// (QKernelSet::finish); the driver makes every read in bounds: A's rows are
// padded to a multiple of 64 bytes (value 128, i.e. 0) and its row count to a multiple of 32
// (QKernelSet::lda_align / row_align); the last partial group of 16 k-groups of B is copied
// into a zeroed buffer. The comp vector (+128 shift correction) is added to the tile after the
// store.
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "qgemm_kernels.h"

namespace nnforge {
namespace detail {
namespace {

struct alignas(64) TileConfig {
  uint8_t palette_id;
  uint8_t start_row;
  uint8_t reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
};

thread_local bool tl_configured = false;

// GCC's AMX intrinsics are asm statements without memory operands: the compiler does not know
// that tile loads read memory and tile stores write it. A compiler barrier after our own writes
// (the zero-padded B copy) and after the tile stores keeps them ordered.
inline void memory_barrier() { asm volatile("" ::: "memory"); }

inline void configure() {
  if (tl_configured) return;
  TileConfig cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.palette_id = 1;
  for (int t = 0; t < 8; ++t) {
    cfg.colsb[t] = 64;
    cfg.rows[t] = 16;
  }
  memory_barrier();
  _tile_loadconfig(&cfg);
  tl_configured = true;
}

// Releases the tile state (TILERELEASE): the next micro-kernel on this thread configures again.
void release() {
  if (!tl_configured) return;
  _tile_release();
  tl_configured = false;
}

template <bool TWO_M, bool TWO_N>
void ukr(int64_t kg, const uint8_t* A, int64_t lda, const int8_t* B, int64_t bstride,
         const int32_t* comp, int32_t* tile) {
  configure();
  _tile_zero(0);
  if (TWO_N) _tile_zero(1);
  if (TWO_M) _tile_zero(2);
  if (TWO_M && TWO_N) _tile_zero(3);
  const int64_t full = kg / 16;
  for (int64_t s = 0; s < full; ++s) {
    const uint8_t* a = A + 64 * s;
    const int8_t* b = B + 1024 * s;
    _tile_loadd(4, a, lda);
    _tile_loadd(6, b, 64);
    _tile_dpbusd(0, 4, 6);
    if (TWO_N) {
      _tile_loadd(7, b + bstride, 64);
      _tile_dpbusd(1, 4, 7);
    }
    if (TWO_M) {
      _tile_loadd(5, a + 16 * lda, lda);
      _tile_dpbusd(2, 5, 6);
      if (TWO_N) _tile_dpbusd(3, 5, 7);
    }
  }
  const int64_t rest = kg - 16 * full;  // k-groups in the last, partial step
  if (rest > 0) {
    alignas(64) int8_t bt[2][1024];
    std::memset(bt, 0, sizeof bt);
    std::memcpy(bt[0], B + 1024 * full, static_cast<size_t>(64 * rest));
    if (TWO_N) std::memcpy(bt[1], B + bstride + 1024 * full, static_cast<size_t>(64 * rest));
    memory_barrier();
    const uint8_t* a = A + 64 * full;
    _tile_loadd(4, a, lda);
    _tile_loadd(6, bt[0], 64);
    _tile_dpbusd(0, 4, 6);
    if (TWO_N) {
      _tile_loadd(7, bt[1], 64);
      _tile_dpbusd(1, 4, 7);
    }
    if (TWO_M) {
      _tile_loadd(5, a + 16 * lda, lda);
      _tile_dpbusd(2, 5, 6);
      if (TWO_N) _tile_dpbusd(3, 5, 7);
    }
  }
  constexpr int ld = kTileLd * 4;  // bytes
  _tile_stored(0, tile, ld);
  if (TWO_N) _tile_stored(1, tile + 16, ld);
  if (TWO_M) _tile_stored(2, tile + 16 * kTileLd, ld);
  if (TWO_M && TWO_N) _tile_stored(3, tile + 16 * kTileLd + 16, ld);
  memory_barrier();
  const __m512i c0 = _mm512_loadu_si512(comp);
  const __m512i c1 = TWO_N ? _mm512_loadu_si512(comp + 16) : c0;
  for (int r = 0; r < (TWO_M ? 32 : 16); ++r) {
    int32_t* t = tile + r * kTileLd;
    _mm512_storeu_si512(t, _mm512_add_epi32(_mm512_loadu_si512(t), c0));
    if (TWO_N) _mm512_storeu_si512(t + 16, _mm512_add_epi32(_mm512_loadu_si512(t + 16), c1));
  }
}

QKernelSet make() {
  QKernelSet ks = qkernels_avx512vnni();  // its epilogue and quantizer
  ks.name = "amx";
  ks.MR = 32;
  ks.NV = 2;
  ks.lda_align = 64;
  ks.row_align = 32;
  ks.finish = &release;
  // Up to 16 rows: one A tile; 17-32: two. One panel: one B tile; two: two.
  const QKernelSet table =
      kernel_set<32, 2>("amx", [](auto r, auto v) { return &ukr<(r > 16), (v > 1)>; });
  std::memcpy(ks.ukr, table.ukr, sizeof ks.ukr);
  return ks;
}

}  // namespace

bool amx_available() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("amx-int8") || !__builtin_cpu_supports("amx-tile") ||
      !__builtin_cpu_supports("avx512vnni") || !__builtin_cpu_supports("avx512bw"))
    return false;
  // Linux >= 5.16: ask for the AMX tile data state (XFEATURE_XTILEDATA = 18) for this process.
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  static const bool granted = syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  return granted;
}

const QKernelSet& qkernels_amx() {
  static const QKernelSet ks = make();
  return ks;
}

}  // namespace detail
}  // namespace nnforge
