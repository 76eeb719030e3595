"""Helpers shared by the op modules: argument conversion and broadcasting gradients."""
from __future__ import annotations

import math
from typing import Any, Tuple

import numpy as np

from nnforge import backend
from nnforge.core.tensor import KerasTensor, Tensor

_NUMERIC_KINDS = "biufc"
_ERF = np.vectorize(math.erf, otypes=[np.float64])


def erf_host(x) -> np.ndarray:
    """The error function of a host array, element by element in float64 (``math.erf``; NumPy
    has no vectorised erf). Shared by ops.erf, gelu and erfinv."""
    x = np.asarray(x, dtype=np.float64)
    return _ERF(x) if x.size else x


def data_of(x: Any, fn: str = "op", arg: str = "x"):
    """The backend array behind ``x`` (Tensor, Variable, NumPy/CuPy array, scalar or nested list).

    Non-numeric input raises TypeError naming ``fn`` and ``arg``; a symbolic KerasTensor raises
    TypeError too (it has no value)."""
    if isinstance(x, Tensor):
        return x.data
    if backend.is_array(x):
        if x.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"{fn}: argument '{arg}' must be numeric, got dtype {x.dtype} "
                            f"with shape {tuple(x.shape)}")
        return x
    if isinstance(x, KerasTensor):
        raise TypeError(f"{fn}: argument '{arg}' is a symbolic KerasTensor from keras.Input; "
                        "ops on it run only inside a layer's call() of a built model")
    try:
        a = np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise TypeError(f"{fn}: argument '{arg}' cannot be converted to an array: {e}") from None
    if a.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{fn}: argument '{arg}' must be numeric, got dtype {a.dtype} "
                        f"with shape {a.shape}")
    if _python_numbers(x):
        # Python floats (scalars or nested lists) follow floatx and ints become int32, as
        # Keras's convert_to_tensor does (ops/_dtypes.py python_sequence_array)
        if a.dtype == np.float64:
            a = a.astype(np.float32)
        elif a.dtype == np.int64:
            a = a.astype(np.int32)
    return a


def _python_numbers(x: Any) -> bool:
    """Whether ``x`` is a Python number or a (nested) list/tuple of only Python numbers."""
    if isinstance(x, (list, tuple)):
        return all(_python_numbers(v) for v in x)
    return isinstance(x, (bool, int, float, complex)) and not isinstance(x, np.generic)


def float_data(x: Any, fn: str = "op", arg: str = "x", like=None):
    """``x`` as a C-contiguous float32 array on the backend of ``like`` (or its own)."""
    a = data_of(x, fn, arg)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: argument '{arg}' must be real-valued numeric data, got dtype "
                        f"{a.dtype}")
    be = backend.of(like if like is not None else a)
    if be is not backend.of(a):
        a = be.asarray(backend.to_numpy(a))
    return be.asarray(a, dtype=np.float32)


def same_backend(*arrays):
    """Move arrays to one backend (the GPU if any of them is on it)."""
    mods = [backend.of(a) for a in arrays]
    target = next((m for m in mods if m is not backend.cpu), backend.cpu)
    if all(m is target for m in mods):
        return arrays
    return tuple(a if m is target else target.asarray(backend.to_numpy(a), dtype=a.dtype)
                 for a, m in zip(arrays, mods))


def unbroadcast(g, shape: Tuple[int, ...]):
    """Sum ``g`` over the axes along which an input of ``shape`` was broadcast."""
    if tuple(g.shape) == tuple(shape):
        return g
    nd = g.ndim - len(shape)
    if nd > 0:
        g = g.sum(axis=tuple(range(nd)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)
