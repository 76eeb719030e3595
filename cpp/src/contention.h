// Whether other programs keep this machine's cores busy: the thread pool's idle workers spin for
// the next job on a quiet machine (a futex wake-up costs tens of microseconds in a VM, more than
// many kernels take) and sleep at once when the cores are shared, so that their spinning never
// takes a core from the busy program or from this process's own running threads.
#pragma once
#include <cstdint>

namespace nnforge {
namespace detail {

// The numerator of /proc/loadavg's fourth field ("runnable/total"): the machine's runnable
// threads at the moment it was read. -1 where the text does not have that form.
int parse_loadavg_runnable(const char* text);

// Other programs' runnable threads, averaged over recent samples: /proc/loadavg's runnable count
// less `own` (this process's threads that run or spin while the caller samples, the caller
// included), sampled at most every kSampleNs by whichever thread asks (others read the average).
// -1 where /proc/loadavg cannot be read.
double others_runnable(int own);

// Whether those threads take cores that this process's `threads` would use: their average
// exceeds the cores left beside them (the cores this process may run on, less `threads`) by more
// than half a thread.
bool cores_contended(int own, int threads);

}  // namespace detail
}  // namespace nnforge
