"""The benchmarks' step timer (standard library only, so that a benchmark's peer runs under the
peers venv can import it too: every script here runs with this folder on ``sys.path``)."""
import statistics
import time


def median_seconds(fn, reps: int, warmup: int = 1, sync=None) -> float:
    """Median wall-clock time of ``fn()``.

    Args:
        fn: the step to time (called with no arguments).
        reps: how many timed calls.
        warmup: untimed calls first (allocations, caches, compilation).
        sync: called after the warm-up and inside the timing after each call, for work
            ``fn`` leaves running asynchronously (e.g. a GPU stream's synchronize); None: none.

    Returns:
        The median of the ``reps`` times, in seconds.

    Example:
        >>> median_seconds(lambda: sum(range(1000)), reps=5) < 1.0
        True
    """
    for _ in range(warmup):
        fn()
    if sync is not None:
        sync()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
