"""How the CPU kernels' OpenMP threads wait for work, decided before the runtime starts.

GNU OpenMP, by default, has an idle worker spin for a while after each parallel region before it
sleeps. On a quiet machine that saves a wake-up; on shared cores (a data loader, a notebook, a
second job beside training) the spinning workers take the cores the busy threads need, and a
training step that should slow down by the load's share slows down three- to fourfold
(benchmarks/bench_contention.py). nnforge therefore has its workers wait passively unless the
user chose otherwise (``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT`` set in the environment).

libgomp reads these variables once, when it is loaded, which happens when ``nnforge._cpu`` is
imported; the setting is put in place for that import only and taken back afterwards, so other
libraries that bring their own OpenMP runtime later see the user's environment unchanged.
"""
from __future__ import annotations

import contextlib
import os
from typing import Iterator

# The policy nnforge's kernels use unless the user set one (see the module docstring).
DEFAULT_WAIT_POLICY = "passive"


@contextlib.contextmanager
def kernel_thread_policy() -> Iterator[None]:
    """Sets ``OMP_WAIT_POLICY`` to :data:`DEFAULT_WAIT_POLICY` while the block runs (the import of
    the compiled kernels), unless the user already set ``OMP_WAIT_POLICY`` or ``GOMP_SPINCOUNT``.
    """
    user_set = "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ
    if not user_set:
        os.environ["OMP_WAIT_POLICY"] = DEFAULT_WAIT_POLICY
    try:
        yield
    finally:
        if not user_set:
            os.environ.pop("OMP_WAIT_POLICY", None)
