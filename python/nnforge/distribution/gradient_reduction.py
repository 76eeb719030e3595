"""Summing the gradients of every process in one fused collective.

Each process's gradients are the mean over its own shard of the global batch. Weighting them by
``n_local / n_global`` and summing gives the mean over the global batch, exactly what one
process would compute, also when the last batch does not divide evenly or a process got no rows
(its weight is 0). All gradients (and the non-trainable variables updated in training, such as
BatchNormalization's moving statistics, averaged with the same weights) are packed into one
float64 buffer, so a step costs one collective, and the sum itself adds no rounding to the
float32 values; the result is cast back into the gradients' own arrays.

Two transports share this packing: MPI on host arrays (``MpiReducer``) and NCCL on CuPy arrays
(``nccl.NcclReducer``), which never copies the buffer through the host.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np


class FusedBuffer:
    """Packs a list of arrays (scaled) into one flat float64 buffer and back.

    Args:
        xp: the array module of the arrays (numpy or cupy).

    Example:
    >>> fb = FusedBuffer(np)
    >>> a, b = np.ones((2, 2), np.float32), np.arange(3, dtype=np.float32)
    >>> buf = fb.pack([a, b], 0.5)
    >>> fb.unpack([a, b])      # writes buf back into a and b
    """

    def __init__(self, xp):
        self.xp = xp
        self.buf = None
        self._layout: Optional[tuple] = None

    def pack(self, arrays: Sequence, scale: float, tail=None):
        """``scale * array`` for each array, then ``tail`` (a float64 host vector, unscaled:
        e.g. metric states that ride along in the same collective), in one buffer."""
        n_tail = 0 if tail is None else len(tail)
        layout = tuple((tuple(a.shape), a.size) for a in arrays) + (n_tail,)
        if layout != self._layout:
            total = sum(n for _, n in layout[:-1]) + n_tail
            self.buf = self.xp.empty(total, dtype=self.xp.float64)
            self._layout = layout
        o = 0
        buf = self.buf
        for a in arrays:
            n = a.size
            self.xp.multiply(a.reshape(-1), scale, out=buf[o:o + n])
            o += n
        if n_tail:
            buf[o:] = self.xp.asarray(tail)
        return buf

    def tail(self, n: int):
        """The last ``n`` values of the buffer (the summed ``tail``), on the host."""
        t = self.buf[len(self.buf) - n:]
        return t if isinstance(t, np.ndarray) else t.get()

    def unpack(self, arrays: Sequence) -> None:
        o = 0
        for a in arrays:
            n = a.size
            a[...] = self.buf[o:o + n].reshape(a.shape)
            o += n


class MpiReducer:
    """Weighted sum of host (NumPy) arrays over processes with one MPI ``Iallreduce``."""

    def __init__(self, collectives):
        self.coll = collectives
        self.fused = FusedBuffer(np)

    def reduce_(self, arrays: List, weight: float, tail=None):
        """Replace each array by ``sum over processes of weight_p * array_p``, in place; returns
        ``tail`` (a float64 vector) summed over processes, from the same collective."""
        buf = self.fused.pack(arrays, weight, tail)
        self.coll.allreduce_(buf, "the gradient allreduce")
        self.fused.unpack(arrays)
        return None if tail is None else self.fused.tail(len(tail))
