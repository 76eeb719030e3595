"""Keras 3's dtype promotion (the JAX-style lattice of ``keras.backend.result_type``) for the
NumPy-style ops: ints and bools meeting a float give floatx, Python scalars are "weak" (they take
the other operand's dtype), and 64-bit types stay 64-bit as on Keras's TensorFlow backend."""
from __future__ import annotations

import functools
from typing import Any

import numpy as np

from nnforge.core.tensor import Tensor

_LATTICE = {
    "bool": ["int"], "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"], "uint64": ["float"], "int": ["uint8", "int8", "complex64"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"], "bfloat16": ["float32"], "float16": ["float32"],
    "float32": ["float64", "complex64"], "float64": ["complex128"], "complex64": ["complex128"],
    "complex128": [],
}


def _upper_bounds():
    ub = {n: {n} for n in _LATTICE}
    for n in _LATTICE:
        while True:
            new = set().union(*(_LATTICE[b] for b in ub[n]))
            if new <= ub[n]:
                break
            ub[n] |= new
    return ub


_UB = _upper_bounds()


@functools.lru_cache(512)
def _lub(*nodes: str) -> str:
    common = set.intersection(*(_UB[n] for n in nodes))
    least = (common & set(nodes)) or {c for c in common if common <= _UB[c]}
    if len(least) != 1:
        raise ValueError(f"no implicit dtype promotion between {nodes}")
    return least.pop()


def _weak(dt: str) -> str:
    return dt if dt == "bool" else ("float" if "float" in dt else
                                    "complex64" if "complex" in dt else "int")


def kind_of(x: Any):
    """``(dtype name, weak)`` of an op argument: Python scalars are weak, arrays/Tensors not."""
    if isinstance(x, bool):
        return "bool", False
    if isinstance(x, int):
        return "int64", True
    if isinstance(x, float):
        return "float32", True
    if isinstance(x, complex):
        return "complex128", True
    dt = getattr(x, "dtype", None)
    if dt is None:
        dt = python_sequence_array(x).dtype
    return np.dtype(dt).name, False


def python_sequence_array(x):
    """A (nested) Python list/tuple as Keras converts it: floats to float32, ints to int32."""
    a = np.asarray(x)
    if a.dtype == np.float64:
        return a.astype(np.float32)
    if a.dtype == np.int64:
        return a.astype(np.int32)
    return a


def result_type(*args: Any) -> str:
    """Keras's ``backend.result_type`` over op arguments (arrays, Tensors, Python scalars) or
    dtype names; the Python types ``int`` and ``float`` stand for weak scalars.

    Args:
        *args: arrays, Tensors, Python scalars, dtype names, or ``int``/``float``.

    Returns:
        The promoted dtype name (e.g. ``"float32"``).

    Example:

    >>> result_type("int32", float)
    'float32'
    """
    kinds = []
    for a in args:
        if a is int:
            kinds.append(("int64", True))
        elif a is float:
            kinds.append(("float32", True))
        elif isinstance(a, str):
            kinds.append((a if a in _LATTICE else np.dtype(a).name, False))
        elif isinstance(a, np.dtype):
            kinds.append((a.name, False))
        else:
            kinds.append(kind_of(a))
    if not kinds:
        return "float32"
    dts = [k[0] for k in kinds]
    weaks = [k[1] for k in kinds]
    if len(dts) == 1:
        out, weak = dts[0], weaks[0]
    elif len(set(dts)) == 1 and not all(weaks):
        out, weak = dts[0], False
    elif all(weaks):
        out, weak = _lub(*sorted(set(dts))), True
    else:
        out = _lub(*sorted({_weak(d) if w else d for d, w in zip(dts, weaks)}))
        weak = out in ("int", "float")
    if weak and out != "bool":
        out = {"b": "bool", "i": "int32", "u": "uint32"}.get(out[0], "float32")
    return out


def strong(x: Any) -> Any:
    """Python scalars as the dtypes Keras's TensorFlow backend converts them to (bool, int32,
    float32), for the ops that convert their arguments before promoting (no weak scalars)."""
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int32"
    if isinstance(x, float):
        return "float32"
    return x


def float_type(x: Any) -> str:
    """The dtype of a float-valued unary op (``arcsin``, ``log2`` ...) on ``x``: floats keep
    their dtype, ints and bools give float32 (as Keras's ``result_type(dtype, float)``)."""
    dt = kind_of(x)[0]
    return dt if dt.startswith(("float", "complex")) else "float32"


def float_type64(x: Any) -> str:
    """As ``float_type``, but int64 gives float64 (Keras's rule for cbrt, i0, corrcoef ...)."""
    return "float64" if kind_of(x)[0] == "int64" else float_type(x)


def is_tensor_like(x: Any) -> bool:
    return isinstance(x, Tensor) or hasattr(x, "__array_interface__") or hasattr(
        x, "__cuda_array_interface__")
