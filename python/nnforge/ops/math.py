"""Element-wise arithmetic, reductions, shape manipulation and creation ops (Keras names).

These run through the array library of the backend that owns the data (NumPy or CuPy); the
hot kernels (GEMM, convolution, activations, losses) live in ``nnforge.ops.nn``."""
from __future__ import annotations

from typing import Any, Optional, Sequence

import builtins as _b
import functools
import math

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._dtypes import result_type
from ._util import data_of, erf_host, float_data, same_backend, unbroadcast


def _xp(a):
    return backend.of(a).xp


def _float(a):
    return a if a.dtype.kind == "f" else a.astype(np.float32)


def _no_grad(name, x, **kwargs):
    """``xp.<name>(x, **kwargs)`` of the array library holding ``x``, as a Tensor that no
    gradient flows through (tests, rounding, index searches, filled copies)."""
    a = data_of(x, name)
    return Tensor(getattr(_xp(a), name)(a, **kwargs))


# ---- conversion -------------------------------------------------------------------------------

def convert_to_tensor(x: Any, dtype: Optional[str] = None) -> Tensor:
    """An nnforge Tensor holding ``x`` on the current device (``keras.ops.convert_to_tensor``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        dtype: optional dtype to cast to; Python floats become float32.

    Returns:
        A Tensor on the current device.

    Example:

    >>> ops.convert_to_tensor([1.5, 2.0]).numpy()
    array([1.5, 2. ], dtype=float32)
    """
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
    return Tensor(be.xp.asarray(a, order="C"))  # contiguous; 0-d stays 0-d


def convert_to_numpy(x: Any) -> np.ndarray:
    """``x`` as a NumPy array (copied from the GPU when needed).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A NumPy array.

    Example:

    >>> ops.convert_to_numpy(ops.ones((2,)))
    array([1., 1.], dtype=float32)
    """
    return backend.to_numpy(data_of(x, "convert_to_numpy", "x"))


def cast(x: Any, dtype: str) -> Tensor:
    """Cast ``x`` to ``dtype`` (``keras.ops.cast``); gradients flow between float dtypes.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        dtype: the target dtype.

    Returns:
        A Tensor of ``dtype``.

    Example:

    >>> ops.cast([1.7, -2.2], 'int32').numpy()
    array([ 1, -2], dtype=int32)
    """
    a = data_of(x, "cast", "x")
    y = a.astype(np.dtype(dtype))
    if np.dtype(dtype).kind != "f":
        return Tensor(y)
    return record(y, (x,), lambda g, n: (g.astype(a.dtype) if a.dtype.kind == "f" else None,))


def stop_gradient(x: Any) -> Tensor:
    """``x`` with no gradient flowing back through it (``keras.ops.stop_gradient``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor equal to ``x``, not recorded on the tape.

    Example:

    >>> ops.stop_gradient([1.0, 2.0]).numpy()
    array([1., 2.])
    """
    return Tensor(data_of(x, "stop_gradient", "x"))


# ---- binary arithmetic -------------------------------------------------------------------------

_PY_SCALARS = (bool, int, float)


@functools.lru_cache(maxsize=256)
def _promoted(k1, k2, floating: bool) -> np.dtype:
    """Keras's result dtype for two argument kinds (a dtype name, or the Python type of a weak
    scalar), cached: this runs on every mixed-dtype arithmetic op."""
    return np.dtype(result_type(k1, k2, float) if floating else result_type(k1, k2))


def _kind(x, a):
    """A Python int/float is a weak scalar; anything else (NumPy scalars included) is its
    array's dtype."""
    return type(x) if type(x) in (int, float) else a.dtype.name


def _binary(fn_name, x1, x2, forward, grad1, grad2, floating: bool = False):
    a = data_of(x1, fn_name, "x1")
    b = data_of(x2, fn_name, "x2")
    a, b = same_backend(a, b)
    if (a.dtype != b.dtype or type(x1) in _PY_SCALARS or type(x2) in _PY_SCALARS
            or (floating and a.dtype.kind not in "fc")):
        # Keras's promotion: Python scalars are weak (float32_tensor * 2 stays float32), an int
        # meeting a float gives the float type (NumPy would widen int32 + float32 to float64).
        try:
            dt = _promoted(_kind(x1, a), _kind(x2, b), floating)
        except (ValueError, TypeError):  # no Keras promotion (e.g. complex with bool)
            dt = np.result_type(a, b)
        a = a if a.dtype == dt else a.astype(dt)
        b = b if b.dtype == dt else b.astype(dt)
    y = forward(a, b)

    def backward(g, needs):
        return (unbroadcast(grad1(g, a, b, y), a.shape) if needs[0] else None,
                unbroadcast(grad2(g, a, b, y), b.shape) if needs[1] else None)

    return record(y, (x1, x2), backward)


def add(x1, x2) -> Tensor:
    """Elementwise ``x1 + x2`` with broadcasting (``keras.ops.add``).

    Args:
        x1: first input; broadcast against ``x2``.
        x2: second input; broadcast against ``x1``.

    Returns:
        A Tensor.

    Example:

    >>> ops.add([1.0, 2.0], 10.0).numpy()
    array([11., 12.])
    """
    return _binary("add", x1, x2, lambda a, b: a + b, lambda g, a, b, y: g, lambda g, a, b, y: g)


def subtract(x1, x2) -> Tensor:
    """Elementwise ``x1 - x2`` with broadcasting (``keras.ops.subtract``).

    Args:
        x1: first input; broadcast against ``x2``.
        x2: second input; broadcast against ``x1``.

    Returns:
        A Tensor.

    Example:

    >>> ops.subtract([1.0, 2.0], [0.5, 0.5]).numpy()
    array([0.5, 1.5])
    """
    return _binary("subtract", x1, x2, lambda a, b: a - b, lambda g, a, b, y: g,
                   lambda g, a, b, y: -g)


def multiply(x1, x2) -> Tensor:
    """Elementwise ``x1 * x2`` with broadcasting (``keras.ops.multiply``).

    Args:
        x1: first input; broadcast against ``x2``.
        x2: second input; broadcast against ``x1``.

    Returns:
        A Tensor.

    Example:

    >>> ops.multiply([1.0, 2.0], 3.0).numpy()
    array([3., 6.])
    """
    return _binary("multiply", x1, x2, lambda a, b: a * b, lambda g, a, b, y: g * b,
                   lambda g, a, b, y: g * a)


def divide(x1, x2) -> Tensor:
    """Elementwise ``x1 / x2`` with broadcasting (``keras.ops.divide``).

    Args:
        x1: first input; broadcast against ``x2``.
        x2: second input; broadcast against ``x1``.

    Returns:
        A Tensor.

    Example:

    >>> ops.divide([1.0, 3.0], 2.0).numpy()
    array([0.5, 1.5])
    """
    return _binary("divide", x1, x2, lambda a, b: _float(a) / b, lambda g, a, b, y: g / b,
                   lambda g, a, b, y: -g * y / b, floating=True)


true_divide = divide


def power(x1, x2) -> Tensor:
    """Elementwise ``x1 ** x2`` with broadcasting (``keras.ops.power``).

    Args:
        x1: first input; broadcast against ``x2``.
        x2: second input; broadcast against ``x1``.

    Returns:
        A Tensor.

    Example:

    >>> ops.power([2.0, 3.0], 2.0).numpy()
    array([4., 9.])
    """
    def g2(g, a, b, y):
        xp = _xp(a)
        return g * y * xp.log(xp.where(a > 0, a, 1))
    return _binary("power", x1, x2, lambda a, b: a ** b,
                   lambda g, a, b, y: g * b * a ** (b - 1), g2)


def maximum(x1, x2) -> Tensor:
    """Elementwise maximum of ``x1`` and ``x2`` (``keras.ops.maximum``); the gradient goes to the
    larger input.

    Args:
        x1: first input; broadcast against ``x2``.
        x2: second input; broadcast against ``x1``.

    Returns:
        A Tensor.

    Example:

    >>> ops.maximum([1.0, 5.0], 3.0).numpy()
    array([3., 5.])
    """
    return _binary("maximum", x1, x2, lambda a, b: _xp(a).maximum(a, b),
                   lambda g, a, b, y: g * (a >= b), lambda g, a, b, y: g * (a < b))


def minimum(x1, x2) -> Tensor:
    """Elementwise minimum of ``x1`` and ``x2`` (``keras.ops.minimum``).

    Args:
        x1: first input; broadcast against ``x2``.
        x2: second input; broadcast against ``x1``.

    Returns:
        A Tensor.

    Example:

    >>> ops.minimum([1.0, 5.0], 3.0).numpy()
    array([1., 3.])
    """
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
    """Elementwise ``-x`` (``keras.ops.negative``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.negative([1.0, -2.0]).numpy()
    array([-1.,  2.])
    """
    return _unary("negative", x, lambda a: -a, lambda g, a, y: -g)


def abs(x) -> Tensor:  # noqa: A001 - Keras's name
    """Elementwise absolute value (``keras.ops.abs``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.abs([-1.5, 2.0]).numpy()
    array([1.5, 2. ])
    """
    return _unary("abs", x, lambda a: _xp(a).abs(a), lambda g, a, y: g * _xp(a).sign(a))


absolute = abs


def square(x) -> Tensor:
    """Elementwise ``x * x`` (``keras.ops.square``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.square([-2.0, 3.0]).numpy()
    array([4., 9.])
    """
    return _unary("square", x, lambda a: a * a, lambda g, a, y: 2 * g * a)


def sqrt(x) -> Tensor:
    """Elementwise square root, in floating point (``keras.ops.sqrt``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float Tensor.

    Example:

    >>> ops.sqrt([4.0, 9.0]).numpy()
    array([2., 3.])
    """
    return _unary("sqrt", x, lambda a: _xp(a).sqrt(_float(a)), lambda g, a, y: g / (2 * y))


def exp(x) -> Tensor:
    """Elementwise exponential (``keras.ops.exp``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float Tensor.

    Example:

    >>> ops.exp([0.0, 1.0]).numpy()
    array([1.        , 2.71828183])
    """
    return _unary("exp", x, lambda a: _xp(a).exp(_float(a)), lambda g, a, y: g * y)


def log(x) -> Tensor:
    """Elementwise natural logarithm (``keras.ops.log``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float Tensor.

    Example:

    >>> ops.log([1.0, np.e]).numpy()
    array([0., 1.])
    """
    return _unary("log", x, lambda a: _xp(a).log(_float(a)), lambda g, a, y: g / a)


def log1p(x) -> Tensor:
    """Elementwise ``log(1 + x)``, accurate for small ``x`` (``keras.ops.log1p``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float Tensor.

    Example:

    >>> ops.log1p([0.0, 1e-6]).numpy()
    array([0.000000e+00, 9.999995e-07])
    """
    return _unary("log1p", x, lambda a: _xp(a).log1p(_float(a)), lambda g, a, y: g / (1 + a))


def sign(x) -> Tensor:
    """Elementwise sign: -1, 0 or 1 (``keras.ops.sign``); not differentiable.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.sign([-3.0, 0.0, 2.0]).numpy()
    array([-1.,  0.,  1.], dtype=float32)
    """
    return _no_grad("sign", x)


def clip(x, x_min, x_max) -> Tensor:
    """Clip ``x`` to ``[x_min, x_max]`` (``keras.ops.clip``); the gradient is zero outside the
    range.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        x_min: lower bound.
        x_max: upper bound.

    Returns:
        A Tensor.

    Example:

    >>> ops.clip([-2.0, 0.5, 3.0], 0.0, 1.0).numpy()
    array([0. , 0.5, 1. ])
    """
    return _unary("clip", x, lambda a: _xp(a).clip(a, x_min, x_max),
                  lambda g, a, y: g * ((a >= x_min) & (a <= x_max)))


def cos(x) -> Tensor:
    """Elementwise cosine (``keras.ops.cos``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float Tensor.

    Example:

    >>> ops.cos([0.0]).numpy()
    array([1.])
    """
    return _unary("cos", x, lambda a: _xp(a).cos(_float(a)), lambda g, a, y: -g * _xp(a).sin(a))


def sin(x) -> Tensor:
    """Elementwise sine (``keras.ops.sin``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float Tensor.

    Example:

    >>> ops.sin([0.0]).numpy()
    array([0.])
    """
    return _unary("sin", x, lambda a: _xp(a).sin(_float(a)), lambda g, a, y: g * _xp(a).cos(a))


def where(condition, x1=None, x2=None) -> Tensor:
    """``x1`` where ``condition`` holds, else ``x2`` (``keras.ops.where``); with only
    ``condition``, the indices of its true elements.

    Args:
        condition: boolean tensor choosing ``x1`` (True) or ``x2`` (False).
        x1: values where ``condition`` is True.
        x2: values where it is False.

    Returns:
        A Tensor of the broadcast shape (or of shape (n, ndim) indices).

    Example:

    >>> ops.where([True, False], [1.0, 2.0], [9.0, 9.0]).numpy()
    array([1., 9.])
    """
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
    if isinstance(g, (np.ndarray, np.generic)) and g.ndim == 0:
        # a scalar gradient (a full reduction's): the filled array in one call, where
        # broadcast_to's Python set-up costs more than the fill
        return np.full(shape, g, dtype=g.dtype)
    if not keepdims and getattr(g, "ndim", 1) > 0:  # a 0-d g broadcasts as it is
        for ax in sorted(axes):
            g = _xp(g).expand_dims(g, ax)
    return _xp(g).broadcast_to(g, shape)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (``keras.ops.sum``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: axis (or tuple of axes) to reduce; None reduces over all axes.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.sum([[1.0, 2.0], [3.0, 4.0]], axis=0).numpy()
    array([4., 6.])
    """
    a = data_of(x, "sum", "x")
    axes = _axes(axis, a.ndim)
    y = a.sum(axis=axes, keepdims=keepdims)
    return record(y, (x,), lambda g, n: (_expand_back(g, a.shape, axes, keepdims),))


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (``keras.ops.mean``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: axis (or tuple of axes) to reduce; None reduces over all axes.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.mean([[1.0, 2.0], [3.0, 4.0]], axis=1).numpy()
    array([1.5, 3.5])
    """
    a = data_of(x, "mean", "x")
    axes = _axes(axis, a.ndim)
    count = math.prod(int(a.shape[i]) for i in axes) if axes else 1
    if isinstance(a, np.ndarray) and a.dtype == np.float32 and 0 < count < (1 << 24):
        # NumPy's mean of float32 without its Python wrapper: the same float32 sum, divided by
        # the count in float32 (NumPy divides in float64 and rounds: the same float32, as a
        # double rounding of a quotient is exact when the count is exact in float32)
        y = np.add.reduce(a, axis=axes, keepdims=keepdims) / np.float32(count)
    else:
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
    """Maximum over ``axis`` (``keras.ops.max``); the gradient goes to the maxima.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: axis (or tuple of axes) to reduce; None reduces over all axes.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.max([[1.0, 5.0], [3.0, 4.0]], axis=1).numpy()
    array([5., 4.])
    """
    return _minmax("max", x, axis, keepdims, lambda a, **k: a.max(**k))


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis`` (``keras.ops.min``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: axis (or tuple of axes) to reduce; None reduces over all axes.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.min([[1.0, 5.0], [3.0, 4.0]], axis=1).numpy()
    array([1., 3.])
    """
    return _minmax("min", x, axis, keepdims, lambda a, **k: a.min(**k))


def argmax(x, axis=-1, keepdims: bool = False) -> Tensor:
    """Index of the maximum along ``axis`` (``keras.ops.argmax``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: the axis to search (default -1).
        keepdims: keep the reduced axes, with size 1.

    Returns:
        An int Tensor.

    Example:

    >>> ops.argmax([[1.0, 5.0], [3.0, 2.0]]).numpy()
    array([1, 0])
    """
    return _no_grad("argmax", x, axis=axis, keepdims=keepdims)


def argmin(x, axis=-1, keepdims: bool = False) -> Tensor:
    """Index of the minimum along ``axis`` (``keras.ops.argmin``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: the axis to search (default -1).
        keepdims: keep the reduced axes, with size 1.

    Returns:
        An int Tensor.

    Example:

    >>> ops.argmin([[1.0, 5.0], [3.0, 2.0]]).numpy()
    array([0, 1])
    """
    return _no_grad("argmin", x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims: bool = False) -> Tensor:
    """Variance (population, ddof 0) over ``axis`` (``keras.ops.var``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: axis (or tuple of axes) to reduce; None reduces over all axes.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.var([1.0, 2.0, 3.0, 4.0]).numpy()
    array(1.25)
    """
    m = mean(x, axis=axis, keepdims=True)
    return mean(square(subtract(x, m)), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims: bool = False) -> Tensor:
    """Standard deviation (ddof 0) over ``axis`` (``keras.ops.std``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: axis (or tuple of axes) to reduce; None reduces over all axes.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.std([1.0, 3.0]).numpy()
    array(1.)
    """
    return sqrt(var(x, axis=axis, keepdims=keepdims))


# ---- shapes ------------------------------------------------------------------------------------

def shape(x) -> tuple:
    """The shape of ``x`` as a tuple of ints (``keras.ops.shape``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A tuple.

    Example:

    >>> ops.shape(np.zeros((2, 3)))
    (2, 3)
    """
    return tuple(data_of(x, "shape").shape)


def reshape(x, new_shape) -> Tensor:
    """``x`` with a new shape of the same size (``keras.ops.reshape``); one dimension may be -1 or
    None.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        new_shape: the target shape.

    Returns:
        A Tensor.

    Example:

    >>> ops.reshape(ops.arange(6), (2, 3)).numpy()
    array([[0, 1, 2],
           [3, 4, 5]])
    """
    a = data_of(x, "reshape", "x")
    try:
        y = a.reshape(tuple(-1 if d is None else d for d in new_shape))
    except ValueError:
        raise ValueError(f"reshape: cannot reshape a tensor of shape {tuple(a.shape)} "
                         f"({a.size} elements) into {tuple(new_shape)}") from None
    return record(y, (x,), lambda g, n: (g.reshape(a.shape),))


def transpose(x, axes=None) -> Tensor:
    """Permute the axes of ``x`` (``keras.ops.transpose``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axes: the permutation; None reverses the axes.

    Returns:
        A Tensor.

    Example:

    >>> ops.transpose(np.zeros((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    a = data_of(x, "transpose", "x")
    perm = tuple(range(a.ndim))[::-1] if axes is None else tuple(axes)
    inv = tuple(np.argsort(perm))
    y = a.transpose(perm)
    return record(y, (x,), lambda g, n: (g.transpose(inv),))


def expand_dims(x, axis) -> Tensor:
    """Insert an axis of size 1 at ``axis`` (``keras.ops.expand_dims``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: position of the new axis.

    Returns:
        A Tensor.

    Example:

    >>> ops.expand_dims(np.zeros((2, 3)), 1).shape
    (2, 1, 3)
    """
    a = data_of(x, "expand_dims", "x")
    y = _xp(a).expand_dims(a, axis)
    return record(y, (x,), lambda g, n: (g.reshape(a.shape),))


def squeeze(x, axis=None) -> Tensor:
    """Remove axes of size 1 (``keras.ops.squeeze``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: the axis (or axes) to remove; None removes all of size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.squeeze(np.zeros((2, 1, 3)), 1).shape
    (2, 3)
    """
    a = data_of(x, "squeeze", "x")
    y = _xp(a).squeeze(a, axis=axis)
    return record(y, (x,), lambda g, n: (g.reshape(a.shape),))


def concatenate(xs: Sequence, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (``keras.ops.concatenate``).

    Args:
        xs: sequence of tensors of equal shapes (except along ``axis``).
        axis: the axis to join along (default 0).

    Returns:
        A Tensor.

    Example:

    >>> ops.concatenate([np.ones((1, 2)), np.zeros((2, 2))]).shape
    (3, 2)
    """
    arrs = same_backend(*[data_of(x, "concatenate", "xs") for x in xs])
    y = _xp(arrs[0]).concatenate(arrs, axis=axis)
    ax = axis % y.ndim
    bounds = np.cumsum([a.shape[ax] for a in arrs])[:-1]

    def backward(g, needs):
        parts = _xp(g).split(g, bounds, axis=ax)
        return tuple(p if nd else None for p, nd in zip(parts, needs))

    return record(y, tuple(xs), backward)


def stack(xs: Sequence, axis: int = 0) -> Tensor:
    """Join tensors along a new axis (``keras.ops.stack``).

    Args:
        xs: sequence of tensors of equal shapes (except along ``axis``).
        axis: position of the new axis (default 0).

    Returns:
        A Tensor.

    Example:

    >>> ops.stack([np.ones(3), np.zeros(3)], axis=1).shape
    (3, 2)
    """
    return concatenate([expand_dims(x, axis) for x in xs], axis=axis)


def getitem(x, idx) -> Tensor:
    """``x[idx]`` with NumPy indexing; the gradient scatters back (``keras.ops`` indexing).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        idx: an index, slice, tuple or integer array.

    Returns:
        A Tensor.

    Example:

    >>> ops.getitem(ops.arange(5), slice(1, 3)).numpy()
    array([1, 2])
    """
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
    """Repeat the whole of ``x`` ``repeats`` times per axis (``keras.ops.tile``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        repeats: int or one int per axis.

    Returns:
        A Tensor.

    Example:

    >>> ops.tile([1.0, 2.0], 2).numpy()
    array([1., 2., 1., 2.])
    """
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
    """One-hot encode integer labels (``keras.ops.one_hot``); labels outside ``[0, num_classes)``
    give zero rows.

    Args:
        x: integer labels.
        num_classes: length of the last axis.
        dtype: dtype of the result (default float32 where a default is shown).

    Returns:
        A Tensor of shape ``x.shape + (num_classes,)``.

    Example:

    >>> ops.one_hot([0, 2], 3).numpy()
    array([[1., 0., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    a = data_of(x, "one_hot", "x")
    xp = _xp(a)
    out = xp.zeros(a.shape + (num_classes,), dtype=np.dtype(dtype))
    ok = (a >= 0) & (a < num_classes)
    idx = xp.where(ok, a, 0).astype(np.int64)
    xp.put_along_axis(out, idx[..., None], ok[..., None].astype(out.dtype), axis=-1)
    return Tensor(out)


# ---- creation ----------------------------------------------------------------------------------

def zeros(shape, dtype: str = "float32") -> Tensor:
    """A tensor of zeros on the current device (``keras.ops.zeros``).

    Args:
        shape: shape of the result.
        dtype: dtype of the result (default float32 where a default is shown).

    Returns:
        A Tensor.

    Example:

    >>> ops.zeros((2,)).numpy()
    array([0., 0.], dtype=float32)
    """
    return Tensor(backend.current().xp.zeros(tuple(shape), dtype=np.dtype(dtype)))


def ones(shape, dtype: str = "float32") -> Tensor:
    """A tensor of ones on the current device (``keras.ops.ones``).

    Args:
        shape: shape of the result.
        dtype: dtype of the result (default float32 where a default is shown).

    Returns:
        A Tensor.

    Example:

    >>> ops.ones((2,)).numpy()
    array([1., 1.], dtype=float32)
    """
    return Tensor(backend.current().xp.ones(tuple(shape), dtype=np.dtype(dtype)))


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros of the shape (and dtype, unless given) of ``x`` (``keras.ops.zeros_like``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        dtype: dtype of the result (default: x's).

    Returns:
        A Tensor.

    Example:

    >>> ops.zeros_like([1.0, 2.0]).numpy()
    array([0., 0.], dtype=float32)
    """
    return _no_grad("zeros_like", x, dtype=dtype)


def ones_like(x, dtype=None) -> Tensor:
    """Ones of the shape (and dtype, unless given) of ``x`` (``keras.ops.ones_like``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        dtype: dtype of the result (default: x's).

    Returns:
        A Tensor.

    Example:

    >>> ops.ones_like([1.0, 2.0]).numpy()
    array([1., 1.], dtype=float32)
    """
    return _no_grad("ones_like", x, dtype=dtype)


def full(shape, fill_value, dtype: str = "float32") -> Tensor:
    """A tensor filled with ``fill_value`` (``keras.ops.full``).

    Args:
        shape: shape of the result.
        fill_value: the value of every element.
        dtype: dtype of the result (default float32 where a default is shown).

    Returns:
        A Tensor.

    Example:

    >>> ops.full((2,), 7.0).numpy()
    array([7., 7.], dtype=float32)
    """
    return Tensor(backend.current().xp.full(tuple(shape), fill_value, dtype=np.dtype(dtype)))


def arange(start, stop=None, step=1, dtype=None) -> Tensor:
    """Evenly spaced values in ``[start, stop)`` (``keras.ops.arange``).

    Args:
        start: first value (or the stop, when ``stop`` is None).
        stop: end, excluded.
        step: spacing.
        dtype: dtype of the result (default: inferred).

    Returns:
        A 1-D Tensor.

    Example:

    >>> ops.arange(0, 6, 2).numpy()
    array([0, 2, 4])
    """
    return Tensor(backend.current().xp.arange(start, stop, step, dtype=dtype))


def isnan(x) -> Tensor:
    """Elementwise test for NaN (``keras.ops.isnan``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A bool Tensor.

    Example:

    >>> ops.isnan([1.0, np.nan]).numpy()
    array([False,  True])
    """
    return _no_grad("isnan", x)


def isfinite(x) -> Tensor:
    """Elementwise test for finite values (``keras.ops.isfinite``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A bool Tensor.

    Example:

    >>> ops.isfinite([1.0, np.inf]).numpy()
    array([ True, False])
    """
    return _no_grad("isfinite", x)


def all(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    """Whether all elements along ``axis`` are true (``keras.ops.all``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: axis (or tuple of axes) to reduce; None reduces over all axes.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        A bool Tensor.

    Example:

    >>> ops.all([True, False]).numpy()
    array(False)
    """
    return _no_grad("all", x, axis=axis, keepdims=keepdims)


def any(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    """Whether any element along ``axis`` is true (``keras.ops.any``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        axis: axis (or tuple of axes) to reduce; None reduces over all axes.
        keepdims: keep the reduced axes, with size 1.

    Returns:
        A bool Tensor.

    Example:

    >>> ops.any([True, False]).numpy()
    array(True)
    """
    return _no_grad("any", x, axis=axis, keepdims=keepdims)


def pad(x, pad_width, mode: str = "constant", constant_values=0) -> Tensor:
    """Pad with a constant (``keras.ops.pad``); pad_width as NumPy's, one pair per axis.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        pad_width: one ``(before, after)`` pair of non-negative ints per axis.
        mode: ``"constant"`` only.
        constant_values: the padding value.

    Returns:
        A Tensor; the gradient is the unpadded slice.

    Example:

    >>> ops.pad([1.0, 2.0], [(1, 2)]).numpy()
    array([0., 1., 2., 0., 0.])
    """
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
    """Repeat each element ``repeats`` times along ``axis`` (``keras.ops.repeat``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        repeats: positive int.
        axis: the axis along which to repeat.

    Returns:
        A Tensor.

    Example:

    >>> ops.repeat([1.0, 2.0], 2, axis=0).numpy()
    array([1., 1., 2., 2.])
    """
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
    y = backend.of(a).asarray(erf_host(backend.to_numpy(a)).astype(a.dtype))
    return record(y, (x,), lambda g, n: (g * (2.0 / math.sqrt(math.pi)) * _xp(a).exp(-a * a),))


def floor(x) -> Tensor:
    """Element-wise floor (``keras.ops.floor``); zero gradient.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A Tensor.

    Example:

    >>> ops.floor([-1.5, 2.7]).numpy()
    array([-2.,  2.], dtype=float32)
    """
    return _no_grad("floor", x)


def round(x, decimals: int = 0) -> Tensor:  # noqa: A001
    """Element-wise rounding, halves to even (``keras.ops.round``); zero gradient.

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).
        decimals: number of decimal places to keep.

    Returns:
        A Tensor.

    Example:

    >>> ops.round([1.26, -2.5], 1).numpy()
    array([ 1.3, -2.5], dtype=float32)
    """
    return _no_grad("round", x, decimals=decimals)


def log_sigmoid(x) -> Tensor:
    """``log(sigmoid(x))``, computed stably (``keras.ops.log_sigmoid``).

    Args:
        x: input tensor (a Tensor, Variable, NumPy/CuPy array or Python scalar).

    Returns:
        A float Tensor.

    Example:

    >>> ops.log_sigmoid([0.0]).numpy()
    array([-0.6931472], dtype=float32)
    """
    return negative(_softplus_neg(x))


def _softplus_neg(x) -> Tensor:
    a = _float(data_of(x, "log_sigmoid", "x"))
    xp = _xp(a)
    y = xp.logaddexp(0, -a)
    return record(y, (x,), lambda g, n: (-g / (1 + xp.exp(a)),))
