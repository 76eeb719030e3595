// Chunked parallel loops that never wait for a thread the system has not scheduled.
//
// An OpenMP parallel region ends in a barrier every thread of the team must reach: on cores
// shared with other programs, a worker the kernel has not run yet (it was woken, but a busy
// process holds its core for a time slice, milliseconds) holds the calling thread at that
// barrier even when there is no work left for it. On two cores beside two busy processes this
// made 80 us pooling and activation calls of the seed CNN take over a millisecond.
//
// parallel_chunks(n, T, fn) runs fn(c) for every chunk c in [0, n), each exactly once, on the
// calling thread and up to T-1 pooled workers. Chunks are claimed one at a time from a shared
// counter, so a thread that runs takes the chunks of one that does not; the call returns when
// every chunk has completed. It waits only for chunks a worker has claimed and is still
// running, never for a worker to arrive: a worker woken too late finds no chunk left and goes
// back to sleep. Which thread runs a chunk never changes what the chunk computes, so results
// depend only on how the caller cuts the work into chunks (fix the cut from the problem, not
// from the thread count, where results must not depend on it).
//
// Idle workers sleep on a futex (no spinning: spinning takes the cores busy neighbours need).
// Inside a chunk, get_num_threads() is 1: kernels called from a chunk (an sgemm per tile) run
// on that thread, as they do inside an OpenMP region; and a parallel_chunks call from inside a
// chunk or an OpenMP region runs its chunks in order on the calling thread.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace nnforge {
namespace detail {

using ChunkFn = void (*)(void* ctx, int64_t chunk);

// True inside a parallel_chunks chunk or an OpenMP parallel region.
bool in_parallel_section();

// The pool itself (runtime.cpp): fn(ctx, c) for c in [0, n) on up to `threads` threads.
void run_chunks(int64_t n, int threads, ChunkFn fn, void* ctx);

template <class F>
void parallel_chunks(int64_t n, int threads, F&& fn) {
  if (n <= 0) return;
  if (n == 1 || threads <= 1 || in_parallel_section()) {
    for (int64_t c = 0; c < n; ++c) fn(c);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  run_chunks(
      n, threads, [](void* ctx, int64_t c) { (*static_cast<Fn*>(ctx))(c); },
      const_cast<void*>(static_cast<const void*>(&fn)));
}

// f(i) for i in [begin, end): the range cut into at most kChunksPerThread * threads chunks of
// consecutive indices, each chunk a parallel_chunks chunk (for loops whose iterations are
// independent: which thread runs an index never matters).
constexpr int64_t kChunksPerThread = 8;

template <class F>
void parallel_for(int64_t begin, int64_t end, int threads, F&& fn) {
  const int64_t n = end - begin;
  if (n <= 0) return;
  const int64_t chunks = threads > 1 ? std::min<int64_t>(n, kChunksPerThread * threads) : 1;
  parallel_chunks(chunks, threads, [&](int64_t c) {
    const int64_t i1 = begin + n * (c + 1) / chunks;
    for (int64_t i = begin + n * c / chunks; i < i1; ++i) fn(i);
  });
}

}  // namespace detail
}  // namespace nnforge
