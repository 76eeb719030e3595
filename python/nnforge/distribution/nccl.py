"""Gradient sums on the GPU with NCCL (CuPy's ``cupy.cuda.nccl`` bindings).

One process drives one GPU, picked by its rank among the processes of its machine. Process 0
creates NCCL's unique id and broadcasts it over MPI; every process then joins the NCCL
communicator, and each training step sums the fused gradient buffer on the device, on CuPy's
current stream, with no copy through the host.

CuPy is imported only when a process actually reduces CuPy arrays.
"""
from __future__ import annotations

from typing import List

import numpy as np

from .gradient_reduction import FusedBuffer


def select_device(local_rank: int):
    """Make GPU ``local_rank % device_count`` CuPy's current device; returns its id, or None
    when CuPy or a GPU is missing."""
    try:
        import cupy
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception:  # no CuPy, no driver or no device: stay on the CPU
        return None
    if n == 0:
        return None
    dev = local_rank % n
    cupy.cuda.Device(dev).use()
    return dev


class NcclReducer:
    """Weighted sum of CuPy arrays over processes with one NCCL all-reduce per step.

    Args:
        collectives: the MPI ``Collectives`` (used once, to broadcast NCCL's unique id).
        nccl: the NCCL binding module (default ``cupy.cuda.nccl``; tests pass a stand-in).
        xp: the array module (default ``cupy``).
        stream: a callable returning the current stream's handle (default CuPy's).

    Example:
    >>> reducer = NcclReducer(collectives)
    >>> reducer.reduce_([g1, g2], weight=0.5)   # g1, g2: CuPy gradient arrays
    """

    def __init__(self, collectives, nccl=None, xp=None, stream=None):
        if nccl is None:
            from cupy.cuda import nccl  # noqa: WPS433
        if xp is None:
            import cupy as xp  # noqa: WPS433
        if stream is None:
            def stream():
                import cupy
                return cupy.cuda.get_current_stream().ptr
        self.nccl, self.xp, self._stream = nccl, xp, stream
        self.coll = collectives
        uid = nccl.get_unique_id() if collectives.rank == 0 else None
        uid = collectives.bcast_obj(uid, 0, "the NCCL unique id broadcast")
        self.comm = nccl.NcclCommunicator(collectives.size, uid, collectives.rank)
        self.fused = FusedBuffer(xp)

    def reduce_(self, arrays: List, weight: float) -> None:
        """Replace each array by ``sum over processes of weight_p * array_p``, in place."""
        buf = self.fused.pack(arrays, weight)
        nccl = self.nccl
        ptr = _pointer(buf)
        self.comm.allReduce(ptr, ptr, buf.size, nccl.NCCL_FLOAT64,
                            nccl.NCCL_SUM, self._stream())
        self.fused.unpack(arrays)


def _pointer(buf) -> int:
    """The device address of a CuPy array (a NumPy array's host address, for tests)."""
    data = getattr(buf, "data", None)
    return data.ptr if hasattr(data, "ptr") else buf.ctypes.data


def is_device_array(a) -> bool:
    """True for a CuPy array (anything that is not a NumPy array but exposes CUDA memory)."""
    return not isinstance(a, np.ndarray) and hasattr(a, "__cuda_array_interface__")
