"""MPI collectives with a deadline: a peer that died or hangs ends the job instead of leaving
the others blocked forever.

Each collective is started nonblocking (``Iallreduce``, ``Ibcast``, ``Ibarrier``) and polled
with ``Test``: a short busy spin (a step's collectives usually complete within it), then sleeps
that grow to 1 ms so a waiting process leaves its core to the peers. Past the deadline the
process prints what it was waiting for and calls ``MPI_Abort``.
"""
from __future__ import annotations

import sys
import time
from typing import Any, List

import numpy as np

from . import launch

_SPIN_S = 1e-3
_MAX_SLEEP_S = 1e-3


class CollectiveTimeout(RuntimeError):
    """A collective did not complete before its deadline (raised only when ``abort=False``)."""


class Collectives:
    """Sum, broadcast, gather and barrier over an mpi4py communicator, each with a deadline.

    Args:
        comm: an ``mpi4py.MPI.Comm`` (the world communicator).
        timeout: seconds a process waits in one collective before ending the job.
        abort: call ``MPI_Abort`` at the deadline (True, for jobs), or raise
            ``CollectiveTimeout`` (False, for tests).

    Example:
    >>> from mpi4py import MPI
    >>> c = Collectives(MPI.COMM_WORLD, timeout=20.0)
    >>> buf = np.ones(4)
    >>> c.allreduce_(buf)       # buf now holds the sum over processes
    """

    def __init__(self, comm, timeout: float = 25.0, abort: bool = True):
        from mpi4py import MPI
        self._MPI = MPI
        self.comm = comm
        self.size = comm.Get_size()
        self.rank = comm.Get_rank()
        self.timeout = float(timeout)
        self.abort = abort
        self.seconds = 0.0  # time spent inside collectives (for benchmarks)
        self.calls = 0

    def _wait(self, request, what: str) -> None:
        t0 = time.perf_counter()
        timeout = self.timeout
        deadline = t0 + timeout
        spin_until = t0 + _SPIN_S
        sleep = 2e-5
        while not request.Test():
            now = time.perf_counter()
            if now < spin_until:
                continue
            if now > deadline:
                msg = (f"nnforge.distribution: process {self.rank} of {self.size} waited "
                       f"{timeout:.0f} s in {what}; a peer died or hangs")
                if not self.abort:
                    err = CollectiveTimeout(msg)
                    err.request = request  # still pending: MPI cannot cancel a collective
                    raise err
                sys.stderr.write(msg + "; aborting the job\n")
                launch.abort(1)
            time.sleep(sleep)
            sleep = min(sleep * 2, _MAX_SLEEP_S)
        self.seconds += time.perf_counter() - t0
        self.calls += 1

    def allreduce_(self, buf: np.ndarray, what: str = "allreduce") -> np.ndarray:
        """Sum ``buf`` (a contiguous NumPy array) over all processes, in place."""
        if self.size > 1:
            self._wait(self.comm.Iallreduce(self._MPI.IN_PLACE, buf, op=self._MPI.SUM), what)
        return buf

    def bcast_(self, buf: np.ndarray, root: int = 0, what: str = "broadcast") -> np.ndarray:
        """Overwrite ``buf`` on every process with process ``root``'s, in place."""
        if self.size > 1:
            self._wait(self.comm.Ibcast(buf, root=root), what)
        return buf

    def bcast_obj(self, obj: Any, root: int = 0, what: str = "broadcast") -> Any:
        """Process ``root``'s picklable ``obj``, on every process."""
        if self.size == 1:
            return obj
        import pickle
        data = np.frombuffer(pickle.dumps(obj, protocol=5), dtype=np.uint8) \
            if self.rank == root else None
        n = np.array([0 if data is None else data.size], dtype=np.int64)
        self.bcast_(n, root, what)
        buf = data.copy() if data is not None else np.empty(int(n[0]), dtype=np.uint8)
        self.bcast_(buf, root, what)
        return obj if self.rank == root else pickle.loads(buf.tobytes())

    def allgather_obj(self, obj: Any, what: str = "allgather") -> List[Any]:
        """Every process's picklable ``obj``, in rank order, on every process."""
        if self.size == 1:
            return [obj]
        import pickle
        data = np.frombuffer(pickle.dumps(obj, protocol=5), dtype=np.uint8)
        counts = np.zeros(self.size, dtype=np.int64)
        counts[self.rank] = data.size
        self.allreduce_(counts, what)
        out = np.empty(int(counts.sum()), dtype=np.uint8)
        displs = np.concatenate([[0], np.cumsum(counts)[:-1]])
        MPI = self._MPI
        self._wait(self.comm.Iallgatherv(data, [out, (counts, displs), MPI.BYTE]), what)
        return [pickle.loads(out[d:d + c].tobytes()) for d, c in zip(displs, counts)]

    def barrier(self, what: str = "barrier") -> None:
        if self.size > 1:
            self._wait(self.comm.Ibarrier(), what)
