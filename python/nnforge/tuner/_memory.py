"""Release what a finished trial left behind: Python garbage and, when CuPy is in use, the
blocks its memory pools keep cached (nnforge.backend has no hook for that)."""
from __future__ import annotations

import gc
import sys


def release_memory() -> None:
    """Collect garbage and free CuPy's cached device and pinned blocks (if CuPy is imported)."""
    gc.collect()
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        try:
            cupy.get_default_memory_pool().free_all_blocks()
            cupy.get_default_pinned_memory_pool().free_all_blocks()
        except Exception:  # no device in this process: nothing was cached
            pass


def resident_memory_bytes() -> int:
    """This process's resident set size (Linux ``/proc``; 0 where unavailable)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0
