"""Building blocks shared by the NumPy-style op modules (numpy_math, numpy_array, linalg, fft):
argument conversion with Keras's dtype rules, element-wise op factories with their gradients,
and a differentiable gather ("index map") through which many shape ops are written."""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._dtypes import float_type, python_sequence_array, result_type, strong
from ._util import data_of, same_backend, unbroadcast


def xp_of(a):
    """The array module (numpy or cupy) owning array ``a``."""
    return backend.of(a).xp


def as_tensor(x: Any) -> Any:
    """Python lists/tuples as Tensors of Keras's dtypes (float32/int32); anything else as is."""
    if isinstance(x, (list, tuple)):
        try:
            return Tensor(backend.current().xp.asarray(python_sequence_array(x)))
        except (ValueError, TypeError):
            return x  # ragged or holding Tensors: left to the op's own conversion
    return x


def arr(x: Any, fn: str, arg: str = "x", dtype: Optional[str] = None):
    """The backend array of ``x`` (cast to ``dtype`` when given); Python lists become arrays
    of Keras's dtypes (float32, int32)."""
    a = data_of(as_tensor(x), fn, arg)
    if dtype is not None and a.dtype != np.dtype(dtype):
        a = a.astype(dtype)
    return a


def _doc(name: str, what: str, args: str, example: str) -> str:
    return (f"{what} (``keras.ops.{name}``).\n\n    Args:\n{args}\n\n    Returns:\n"
            f"        A Tensor.\n\n    Example:\n\n    >>> y = {example}\n    ")


_ARG_X = "        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar)."
_ARG_X12 = ("        x1: first input tensor; broadcast against ``x2``.\n"
            "        x2: second input tensor; broadcast against ``x1``.")


def unary_float(name: str, what: str, forward: Callable, grad: Optional[Callable],
                example: str, dtype_rule: Callable = float_type) -> Callable:
    """An element-wise float op: ints/bools compute in float32 (Keras's rule), floats keep their
    dtype. ``forward(xp, a)`` computes the result; ``grad(xp, a, y)`` its derivative (None: the
    op has no gradient)."""

    def op(x) -> Tensor:
        dt = dtype_rule(x)
        a = arr(x, name, "x", dt)
        xp = xp_of(a)
        with np.errstate(all="ignore"):  # out-of-domain inputs give NaN/inf quietly, as in Keras
            y = xp.asarray(forward(xp, a)).astype(dt, copy=False)
        if grad is None:
            return Tensor(y)
        return record(y, (x,), lambda g, n: ((g * grad(xp, a, y)).astype(dt, copy=False),))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _doc(name, what, _ARG_X, example)
    return op


def binary(name: str, what: str, forward: Callable, grad1: Optional[Callable] = None,
           grad2: Optional[Callable] = None, example: str = "", floating: bool = True,
           out_dtype: Optional[str] = None, weak: bool = False,
           dtype_rule: Optional[Callable] = None) -> Callable:
    """An element-wise binary op with broadcasting. The inputs are promoted with Keras's
    ``result_type`` (plus ``float`` when ``floating``; Python scalars weak only when ``weak``,
    as the Keras op does) or by ``dtype_rule(x1, x2)``; ``grad1/grad2(xp, a, b, y)`` are the
    partial derivatives (None: no gradient for that input)."""

    def op(x1, x2) -> Tensor:
        s1, s2 = (x1, x2) if weak else (strong(x1), strong(x2))
        if dtype_rule is not None:
            dt = dtype_rule(s1, s2)
        else:
            dt = result_type(s1, s2, float) if floating else result_type(s1, s2)
        a = arr(x1, name, "x1", dt)
        b = arr(x2, name, "x2", dt)
        a, b = same_backend(a, b)
        xp = xp_of(a)
        with np.errstate(all="ignore"):
            y = xp.asarray(forward(xp, a, b))
        y = y.astype(out_dtype or dt, copy=False)
        if grad1 is None and grad2 is None:
            return Tensor(y)

        def backward(g, needs):
            out = []
            for i, (gr, s) in enumerate(((grad1, a.shape), (grad2, b.shape))):
                if needs[i] and gr is not None:
                    out.append(unbroadcast(xp.asarray(g * gr(xp, a, b, y)), s).astype(dt))
                else:
                    out.append(None)
            return tuple(out)

        return record(y, (x1, x2), backward)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = _doc(name, what, _ARG_X12, example)
    return op


def index_map(x, idx, fn: str = "op", fill=None) -> Tensor:
    """``x.ravel()[idx]`` as a differentiable op; entries of ``idx`` equal to -1 become
    ``fill`` (zero by default). Shape ops (roll, rot90, diag, diagonal, tril ...) are index
    maps, so one gather and one scatter-add give all their forwards and backwards."""
    x = as_tensor(x)
    a = data_of(x, fn, "x")
    xp = xp_of(a)
    idx = xp.asarray(idx)
    flat = a.reshape(-1)
    hole = idx < 0
    safe = xp.where(hole, 0, idx)
    y = flat[safe] if flat.size else xp.zeros(idx.shape, a.dtype)
    if bool(hole.any()):
        y = xp.where(hole, xp.asarray(0 if fill is None else fill, dtype=a.dtype), y)

    def backward(g, needs):
        w = xp.where(hole, 0, g).reshape(-1)
        gx = xp.bincount(safe.reshape(-1), weights=w, minlength=flat.size)
        return (gx[:flat.size].astype(a.dtype).reshape(a.shape),)

    if a.dtype.kind != "f":
        return Tensor(y)
    return record(y, (x,), backward)


def positions(shape, xp=np):
    """``arange(prod(shape)).reshape(shape)``: the flat position of every element."""
    n = int(np.prod(shape)) if len(shape) else 1
    return xp.arange(n, dtype=np.int64).reshape(shape)
