"""Element-wise arithmetic, reductions, shape manipulation and creation ops (Keras names).

These run through the array library of the backend that owns the data (NumPy or CuPy); the
hot kernels (GEMM, convolution, activations, losses) live in ``nnforge.ops.nn``."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import builtins as _b
import math

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._util import data_of, float_data, same_backend, unbroadcast


def _xp(a):
    return backend.of(a).xp


def _float(a):
    return a if a.dtype.kind == "f" else a.astype(np.float32)


# ---- conversion -------------------------------------------------------------------------------

def convert_to_tensor(x: Any, dtype: Optional[str] = None) -> Tensor:
    """An nnforge Tensor holding ``x`` on the current device (``keras.ops.convert_to_tensor``)."""
    if isinstance(x, Tensor) and dtype is None:
        return x
    a = data_of(x, "convert_to_tensor", "x")
    be = backend.current() if not backend.is_array(a) or isinstance(a, np.ndarray) else backend.of(a)
    if backend.of(a) is not be:
        a = be.asarray(backend.to_numpy(a), dtype=a.dtype)
    if dtype is not None:
        a = a.astype(np.dtype(dtype), copy=False)
    elif a.dtype == np.float64 and not isinstance(x, (np.ndarray, Tensor)):
        a = a.astype(np.float32)
    return Tensor(be.xp.ascontiguousarray(a))


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array (copied from the GPU when needed)."""
    return backend.to_numpy(data_of(x, "convert_to_numpy", "x"))


def cast(x: Any, dtype: str) -> Tensor:
    a = data_of(x, "cast", "x")
    y = a.astype(np.dtype(dtype))
    if np.dtype(dtype).kind != "f":
        return Tensor(y)
    return record(y, (x,), lambda g, n: (g.astype(a.dtype) if a.dtype.kind == "f" else None,))


def stop_gradient(x: Any) -> Tensor:
    return Tensor(data_of(x, "stop_gradient", "x"))


# ---- binary arithmetic -------------------------------------------------------------------------

def _binary(fn_name, x1, x2, forward, grad1, grad2):
    a = data_of(x1, fn_name, "x1")
    b = data_of(x2, fn_name, "x2")
    a, b = same_backend(a, b)
    y = forward(a, b)

    def backward(g, needs):
        return (unbroadcast(grad1(g, a, b, y), a.shape) if needs[0] else None,
                unbroadcast(grad2(g, a, b, y), b.shape) if needs[1] else None)

    return record(y, (x1, x2), backward)


def add(x1, x2) -> Tensor:
    return _binary("add", x1, x2, lambda a, b: a + b, lambda g, a, b, y: g, lambda g, a, b, y: g)


def subtract(x1, x2) -> Tensor:
    return _binary("subtract", x1, x2, lambda a, b: a - b, lambda g, a, b, y: g,
                   lambda g, a, b, y: -g)


def multiply(x1, x2) -> Tensor:
    return _binary("multiply", x1, x2, lambda a, b: a * b, lambda g, a, b, y: g * b,
                   lambda g, a, b, y: g * a)


def divide(x1, x2) -> Tensor:
    return _binary("divide", x1, x2, lambda a, b: _float(a) / b, lambda g, a, b, y: g / b,
                   lambda g, a, b, y: -g * y / b)


true_divide = divide


def power(x1, x2) -> Tensor:
    def g2(g, a, b, y):
        xp = _xp(a)
        return g * y * xp.log(xp.where(a > 0, a, 1))
    return _binary("power", x1, x2, lambda a, b: a ** b,
                   lambda g, a, b, y: g * b * a ** (b - 1), g2)


def maximum(x1, x2) -> Tensor:
    return _binary("maximum", x1, x2, lambda a, b: _xp(a).maximum(a, b),
                   lambda g, a, b, y: g * (a >= b), lambda g, a, b, y: g * (a < b))


def minimum(x1, x2) -> Tensor:
    return _binary("minimum", x1, x2, lambda a, b: _xp(a).minimum(a, b),
                   lambda g, a, b, y: g * (a <= b), lambda g, a, b, y: g * (a > b))


def _compare(name, op):
    def f(x1, x2) -> Tensor:
        a, b = same_backend(data_of(x1, name, "x1"), data_of(x2, name, "x2"))
        return Tensor(op(a, b))
    f.__name__ = name
    return f


equal = _compare("equal", lambda a, b: a == b)
not_equal = _compare("not_equal", lambda a, b: a != b)
less = _compare("less", lambda a, b: a < b)
less_equal = _compare("less_equal", lambda a, b: a <= b)
greater = _compare("greater", lambda a, b: a > b)
greater_equal = _compare("greater_equal", lambda a, b: a >= b)


# ---- unary -------------------------------------------------------------------------------------

def _unary(name, x, forward, grad):
    a = data_of(x, name, "x")
    y = forward(a)
    return record(y, (x,), lambda g, n: (grad(g, a, y),))


def negative(x) -> Tensor:
    return _unary("negative", x, lambda a: -a, lambda g, a, y: -g)


def abs(x) -> Tensor:  # noqa: A001 - Keras's name
    return _unary("abs", x, lambda a: _xp(a).abs(a), lambda g, a, y: g * _xp(a).sign(a))


absolute = abs


def square(x) -> Tensor:
    return _unary("square", x, lambda a: a * a, lambda g, a, y: 2 * g * a)


def sqrt(x) -> Tensor:
    return _unary("sqrt", x, lambda a: _xp(a).sqrt(_float(a)), lambda g, a, y: g / (2 * y))


def exp(x) -> Tensor:
    return _unary("exp", x, lambda a: _xp(a).exp(_float(a)), lambda g, a, y: g * y)


def log(x) -> Tensor:
    return _unary("log", x, lambda a: _xp(a).log(_float(a)), lambda g, a, y: g / a)


def log1p(x) -> Tensor:
    return _unary("log1p", x, lambda a: _xp(a).log1p(_float(a)), lambda g, a, y: g / (1 + a))


def sign(x) -> Tensor:
    return Tensor(_xp(data_of(x, "sign")).sign(data_of(x, "sign")))


def clip(x, x_min, x_max) -> Tensor:
    return _unary("clip", x, lambda a: _xp(a).clip(a, x_min, x_max),
                  lambda g, a, y: g * ((a >= x_min) & (a <= x_max)))


def cos(x) -> Tensor:
    return _unary("cos", x, lambda a: _xp(a).cos(_float(a)), lambda g, a, y: -g * _xp(a).sin(a))


def sin(x) -> Tensor:
    return _unary("sin", x, lambda a: _xp(a).sin(_float(a)), lambda g, a, y: g * _xp(a).cos(a))


def where(condition, x1=None, x2=None) -> Tensor:
    c = data_of(condition, "where", "condition")
    if x1 is None and x2 is None:
        return Tensor(_xp(c).stack(_xp(c).nonzero(c), axis=-1))
    a, b = same_backend(data_of(x1, "where", "x1"), data_of(x2, "where", "x2"))
    c = same_backend(c, a)[0]
    y = _xp(a).where(c, a, b)

    def backward(g, needs):
        return (None,
                unbroadcast(g * c, a.shape) if needs[1] else None,
                unbroadcast(g * ~c.astype(bool), b.shape) if needs[2] else None)

    return record(y, (condition, x1, x2), backward)


# ---- reductions --------------------------------------------------------------------------------

def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = []
    for ax in axis:
        if not -ndim <= ax < _b.max(ndim, 1):
            raise ValueError(f"axis {ax} is out of bounds for a tensor of rank {ndim}")
        out.append(ax % _b.max(ndim, 1))
    return tuple(out)


def _expand_back(g, shape, axes, keepdims):
    if not keepdims and getattr(g, "ndim", 1) > 0:  # a 0-d g broadcasts as it is
        for ax in sorted(axes):
            g = _xp(g).expand_dims(g, ax)
    return _xp(g).broadcast_to(g, shape)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    a = data_of(x, "sum", "x")
    axes = _axes(axis, a.ndim)
    y = a.sum(axis=axes, keepdims=keepdims)
    return record(y, (x,), lambda g, n: (_expand_back(g, a.shape, axes, keepdims),))


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    a = data_of(x, "mean", "x")
    axes = _axes(axis, a.ndim)
    count = math.prod(int(a.shape[i]) for i in axes) if axes else 1
    y = _float(a).mean(axis=axes, keepdims=keepdims)
    return record(y, (x,), lambda g, n: (_expand_back(g / _b.max(count, 1), a.shape, axes,
                                                       keepdims),))


def _minmax(name, x, axis, keepdims, fn):
    a = data_of(x, name, "x")
    axes = _axes(axis, a.ndim)
    y = fn(a, axis=axes, keepdims=keepdims)

    def backward(g, needs):
        yk = _expand_back(y, a.shape, axes, keepdims)
        mask = (a == yk)
        count = mask.sum(axis=axes, keepdims=True)
        return (_expand_back(g, a.shape, axes, keepdims) * mask / count,)

    return record(y, (x,), backward)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _minmax("max", x, axis, keepdims, lambda a, **k: a.max(**k))


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    return _minmax("min", x, axis, keepdims, lambda a, **k: a.min(**k))


def argmax(x, axis=-1, keepdims: bool = False) -> Tensor:
    a = data_of(x, "argmax", "x")
    return Tensor(_xp(a).argmax(a, axis=axis, keepdims=keepdims))


def argmin(x, axis=-1, keepdims: bool = False) -> Tensor:
    a = data_of(x, "argmin", "x")
    return Tensor(_xp(a).argmin(a, axis=axis, keepdims=keepdims))


def var(x, axis=None, keepdims: bool = False) -> Tensor:
    m = mean(x, axis=axis, keepdims=True)
    return mean(square(subtract(x, m)), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims: bool = False) -> Tensor:
    return sqrt(var(x, axis=axis, keepdims=keepdims))


# ---- shapes ------------------------------------------------------------------------------------

def shape(x) -> tuple:
    return tuple(data_of(x, "shape").shape)


def reshape(x, new_shape) -> Tensor:
    a = data_of(x, "reshape", "x")
    try:
        y = a.reshape(tuple(-1 if d is None else d for d in new_shape))
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(a.shape)} "
                         f"({a.size} elements) into {tuple(new_shape)}") from None
    return record(y, (x,), lambda g, n: (g.reshape(a.shape),))


def transpose(x, axes=None) -> Tensor:
    a = data_of(x, "transpose", "x")
    perm = tuple(range(a.ndim))[::-1] if axes is None else tuple(axes)
    inv = tuple(np.argsort(perm))
    y = a.transpose(perm)
    return record(y, (x,), lambda g, n: (g.transpose(inv),))


def expand_dims(x, axis) -> Tensor:
    a = data_of(x, "expand_dims", "x")
    y = _xp(a).expand_dims(a, axis)
    return record(y, (x,), lambda g, n: (g.reshape(a.shape),))


def squeeze(x, axis=None) -> Tensor:
    a = data_of(x, "squeeze", "x")
    y = _xp(a).squeeze(a, axis=axis)
    return record(y, (x,), lambda g, n: (g.reshape(a.shape),))


def concatenate(xs: Sequence, axis: int = 0) -> Tensor:
    arrs = same_backend(*[data_of(x, "concatenate", "xs") for x in xs])
    y = _xp(arrs[0]).concatenate(arrs, axis=axis)
    ax = axis % y.ndim
    bounds = np.cumsum([a.shape[ax] for a in arrs])[:-1]

    def backward(g, needs):
        parts = _xp(g).split(g, bounds, axis=ax)
        return tuple(p if nd else None for p, nd in zip(parts, needs))

    return record(y, tuple(xs), backward)


def stack(xs: Sequence, axis: int = 0) -> Tensor:
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


def getitem(x, idx) -> Tensor:
    a = data_of(x, "getitem", "x")
    if isinstance(idx, Tensor):
        idx = idx.data
    y = a[idx]

    def backward(g, needs):
        out = _xp(a).zeros(a.shape, dtype=g.dtype)
        _xp(a).add.at(out, idx, g) if hasattr(_xp(a).add, "at") else out.__setitem__(idx, g)
        return (out,)

    return record(y, (x,), backward)


def tile(x, repeats) -> Tensor:
    a = data_of(x, "tile", "x")
    reps = tuple(repeats) if not isinstance(repeats, int) else (repeats,)
    y = _xp(a).tile(a, reps)

    def backward(g, needs):
        reps_full = (1,) * (y.ndim - len(reps)) + reps
        shape_full = (1,) * (y.ndim - a.ndim) + a.shape
        split = []
        for r, s in zip(reps_full, shape_full):
            split += [r, s]
        return (g.reshape(split).sum(axis=tuple(range(0, 2 * y.ndim, 2))).reshape(a.shape),)

    return record(y, (x,), backward)


def one_hot(x, num_classes: int, dtype: str = "float32") -> Tensor:
    a = data_of(x, "one_hot", "x")
    xp = _xp(a)
    out = xp.zeros(a.shape + (num_classes,), dtype=np.dtype(dtype))
    ok = (a >= 0) & (a < num_classes)
    idx = xp.where(ok, a, 0).astype(np.int64)
    xp.put_along_axis(out, idx[..., None], ok[..., None].astype(out.dtype), axis=-1)
    return Tensor(out)


# ---- creation ----------------------------------------------------------------------------------

def zeros(shape, dtype: str = "float32") -> Tensor:
    return Tensor(backend.current().xp.zeros(tuple(shape), dtype=np.dtype(dtype)))


def ones(shape, dtype: str = "float32") -> Tensor:
    return Tensor(backend.current().xp.ones(tuple(shape), dtype=np.dtype(dtype)))


def zeros_like(x, dtype=None) -> Tensor:
    a = data_of(x, "zeros_like")
    return Tensor(_xp(a).zeros_like(a, dtype=dtype))


def ones_like(x, dtype=None) -> Tensor:
    a = data_of(x, "ones_like")
    return Tensor(_xp(a).ones_like(a, dtype=dtype))


def full(shape, fill_value, dtype: str = "float32") -> Tensor:
    return Tensor(backend.current().xp.full(tuple(shape), fill_value, dtype=np.dtype(dtype)))


def arange(start, stop=None, step=1, dtype=None) -> Tensor:
    return Tensor(backend.current().xp.arange(start, stop, step, dtype=dtype))


def isnan(x) -> Tensor:
    a = data_of(x, "isnan")
    return Tensor(_xp(a).isnan(a))


def isfinite(x) -> Tensor:
    a = data_of(x, "isfinite")
    return Tensor(_xp(a).isfinite(a))


def all(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    a = data_of(x, "all")
    return Tensor(_xp(a).all(a, axis=axis, keepdims=keepdims))


def any(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    a = data_of(x, "any")
    return Tensor(_xp(a).any(a, axis=axis, keepdims=keepdims))


def pad(x, pad_width, mode: str = "constant", constant_values=0) -> Tensor:
    """Pad with a constant (``keras.ops.pad``); pad_width as NumPy's, one pair per axis."""
    if mode != "constant":
        raise ValueError(f"pad: only mode='constant' is supported, got {mode!r}")
    a = data_of(x, "pad", "x")
    pw = [tuple(int(v) for v in p) for p in pad_width]
    if len(pw) != a.ndim or _b.any(len(p) != 2 or p[0] < 0 or p[1] < 0 for p in pw):
        raise ValueError(f"pad: pad_width must hold one (before, after) pair of non-negative ints "
                         f"per axis of the input of shape {tuple(a.shape)}, got {pad_width!r}")
    y = _xp(a).pad(a, pw, mode="constant", constant_values=constant_values)
    idx = tuple(slice(b, b + n) for (b, _), n in zip(pw, a.shape))
    return record(y, (x,), lambda g, n: (g[idx],))


def repeat(x, repeats: int, axis: int) -> Tensor:
    """Repeat each element ``repeats`` times along ``axis`` (``keras.ops.repeat``)."""
    a = data_of(x, "repeat", "x")
    if not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeat: repeats must be a positive int, got {repeats!r}")
    ax = axis % a.ndim
    y = _xp(a).repeat(a, repeats, axis=ax)

    def backward(g, needs):
        shape = a.shape[:ax] + (a.shape[ax], repeats) + a.shape[ax + 1:]
        return (g.reshape(shape).sum(axis=ax + 1),)

    return record(y, (x,), backward)


# ---- reductions and norms added for the keras.io examples -------------------------------------

def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably (``keras.ops.logsumexp``).

    Args:
        x: the tensor.
        axis: an axis or tuple of axes (None: all).
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor; its gradient is ``softmax(x)`` over the axes.

    Example:

    >>> nnforge.ops.logsumexp(np.array([0., 0.]))  # log(2)
    """
    a = _float(data_of(x, "logsumexp", "x"))
    xp = _xp(a)
    axes = _axes(axis, a.ndim)
    m = a.max(axis=axes, keepdims=True) if a.size else xp.zeros((1,) * a.ndim, a.dtype)
    m = xp.where(xp.isfinite(m), m, 0)
    s = xp.log(xp.exp(a - m).sum(axis=axes, keepdims=True)) + m
    y = s if keepdims else s.reshape([d for i, d in enumerate(a.shape) if i not in axes])

    def backward(g, needs):
        return (_expand_back(g, a.shape, axes, keepdims) * xp.exp(a - s),)

    return record(y, (x,), backward)


def norm(x, ord=None, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A002
    """Vector or matrix norm (``keras.ops.norm``): the L2 (Frobenius) norm by default; for
    vectors ``ord`` may be any positive number, ``inf`` or ``-inf``.

    Args:
        x: the tensor.
        ord: the order of the norm (None: 2 for vectors, 'fro' for matrices).
        axis: an int (vector norms) or a pair of ints (matrix norm, 'fro' only); None: the
            whole tensor as a vector.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor.

    Example:

    >>> nnforge.ops.norm(np.array([3., 4.]))  # 5.0
    """
    a = _float(data_of(x, "norm", "x"))
    if isinstance(axis, (tuple, list)) and len(axis) == 2:
        if ord not in (None, "fro"):
            raise ValueError(f"norm: only the Frobenius norm is supported over two axes, got "
                             f"ord={ord!r}")
        return sqrt(sum(square(x), axis=tuple(axis), keepdims=keepdims))
    if ord in (None, 2, "fro", "euclidean"):
        return sqrt(sum(square(x), axis=axis, keepdims=keepdims))
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if ord in (np.inf, float("inf")):
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord in (-np.inf, float("-inf")):
        return min(abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float)) and ord > 0:
        p = float(ord)
        return power(sum(power(abs(x), p), axis=axis, keepdims=keepdims), 1.0 / p)
    raise ValueError(f"norm: unsupported ord={ord!r}")


def erf(x) -> Tensor:
    """The error function (``keras.ops.erf``), differentiable.

    Example:

    >>> nnforge.ops.erf(np.array([0.0]))
    """
    a = _float(data_of(x, "erf", "x"))
    xa = backend.to_numpy(a).astype(np.float64)
    y = np.vectorize(math.erf, otypes=[np.float64])(xa) if xa.size else xa
    y = backend.of(a).asarray(y.astype(a.dtype))
    return record(y, (x,), lambda g, n: (g * (2.0 / math.sqrt(math.pi)) * _xp(a).exp(-a * a),))


def floor(x) -> Tensor:
    """Element-wise floor (``keras.ops.floor``); zero gradient."""
    return Tensor(_xp(data_of(x, "floor")).floor(data_of(x, "floor")))


def round(x, decimals: int = 0) -> Tensor:  # noqa: A001
    """Element-wise rounding (``keras.ops.round``); zero gradient."""
    return Tensor(_xp(data_of(x, "round")).round(data_of(x, "round"), decimals))


def log_sigmoid(x) -> Tensor:
    """``log(sigmoid(x))``, computed stably (``keras.ops.log_sigmoid``)."""
    return negative(_softplus_neg(x))


def _softplus_neg(x) -> Tensor:
    a = _float(data_of(x, "log_sigmoid", "x"))
    xp = _xp(a)
    y = xp.logaddexp(0, -a)
    return record(y, (x,), lambda g, n: (-g / (1 + xp.exp(a)),))
