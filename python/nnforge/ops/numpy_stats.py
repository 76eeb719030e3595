"""NumPy-style reductions and statistics of ``keras.ops``: products, quantiles, the NaN-ignoring
family (nansum, nanmean, nanquantile ...), averages, histograms and binning. Gradients follow
Keras's (TensorFlow's): quantiles route the gradient to the sorted elements they interpolate."""
from __future__ import annotations

import importlib
from typing import Optional

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._dtypes import float_type, float_type64, kind_of, result_type
from ._npcommon import arr, as_tensor, xp_of
from ._util import data_of, same_backend

_mm = importlib.import_module("nnforge.ops.math")  # the package attribute 'math' is the stdlib's


def _axes(axis, ndim):
    return _mm._axes(axis, ndim)


def amax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis`` (``keras.ops.amax``; the gradient goes to the maxima).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.amax([[1.0, 5.0], [3.0, 4.0]], axis=1).numpy()
    array([5., 4.], dtype=float32)
    """
    x = as_tensor(x)
    return _mm.max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis`` (``keras.ops.amin``; the gradient goes to the minima).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.amin([[1.0, 5.0], [3.0, 4.0]], axis=1).numpy()
    array([1., 3.], dtype=float32)
    """
    x = as_tensor(x)
    return _mm.min(x, axis=axis, keepdims=keepdims)


def _widen(dt: str) -> str:
    return {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "uint32",
            "uint16": "uint32"}.get(dt, dt)


def _to_last(a, axes):
    """Move ``axes`` of ``a`` to the end and flatten them: (rest..., n)."""
    xp = xp_of(a)
    rest = [i for i in range(a.ndim) if i not in axes]
    t = xp.transpose(a, rest + list(axes))
    return t.reshape(tuple(a.shape[i] for i in rest) + (-1,)), rest


def _from_last(g, shape, axes, rest):
    """Inverse of ``_to_last`` for a gradient laid out as (rest..., n)."""
    xp = xp_of(g)
    t = g.reshape(tuple(shape[i] for i in rest) + tuple(shape[i] for i in axes))
    return xp.transpose(t, np.argsort(rest + list(axes)))


def _keep(y, shape, axes, keepdims):
    if keepdims:
        return y.reshape(tuple(1 if i in axes else s for i, s in enumerate(shape)))
    return y


def prod(x, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    """Product of the elements over ``axis`` (``keras.ops.prod``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.
        dtype: the result's dtype (default: ``x``'s, with bool/int8/int16 as int32).

    Returns:
        A Tensor.

    Example:

    >>> ops.prod([[1.0, 2.0], [3.0, 4.0]], axis=0).numpy()
    array([3., 8.], dtype=float32)
    """
    dt = np.dtype(dtype).name if dtype is not None else _widen(kind_of(x)[0])
    a = arr(x, "prod", "x", dt)
    xp = xp_of(a)
    axes = _axes(axis, a.ndim)
    t, rest = _to_last(a, axes)
    y = xp.prod(t, axis=-1).astype(dt)

    def backward(g, needs):
        ones = xp.ones(t.shape[:-1] + (1,), t.dtype)
        left = xp.cumprod(xp.concatenate([ones, t[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(t, -1)[..., :-1]], -1), -1), -1)
        gt = (left * right) * xp.asarray(g).reshape(t.shape[:-1] + (1,))
        return (_from_last(gt, a.shape, axes, rest),)

    y = _keep(y, a.shape, axes, keepdims)
    return record(y, (x,), backward) if a.dtype.kind == "f" else Tensor(y)


def count_nonzero(x, axis=None) -> Tensor:
    """Number of nonzero elements over ``axis`` (``keras.ops.count_nonzero``).

    Args:
        x: input tensor.
        axis: axis or axes to count over; None counts all.

    Returns:
        An int32 Tensor.

    Example:

    >>> ops.count_nonzero([[0, 1], [2, 3]], axis=0).numpy()
    array([1, 2], dtype=int32)
    """
    a = arr(x, "count_nonzero")
    axes = _axes(axis, a.ndim)
    return Tensor(xp_of(a).asarray((a != 0).sum(axis=axes)).astype(np.int32))


def ptp(x, axis=None, keepdims: bool = False) -> Tensor:
    """Range (max - min) over ``axis`` (``keras.ops.ptp``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.ptp([[1.0, 5.0], [3.0, 4.0]], axis=1).numpy()
    array([4., 1.], dtype=float32)
    """
    x = as_tensor(x)
    return _mm.subtract(_mm.max(x, axis, keepdims), _mm.min(x, axis, keepdims))


# ---- quantiles ---------------------------------------------------------------------------------

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(name, x, q, axis, method, keepdims, scale=1.0):
    if method not in _METHODS:
        raise ValueError(f"{name}: method must be one of {_METHODS}, got {method!r}")
    dt = float_type(x)
    a = arr(x, name, "x", dt)
    xp = xp_of(a)
    qa = xp.asarray(backend.to_numpy(data_of(q, name, "q")).astype(np.float64)) / scale
    if bool(((qa < 0) | (qa > 1)).any()):
        raise ValueError(f"{name}: q must lie in [0, {scale:g}], got {qa * scale}")
    axes = _axes(axis, a.ndim)
    t, rest = _to_last(a, axes)
    order = xp.argsort(t, axis=-1, kind="stable") if xp is np else xp.argsort(t, axis=-1)
    s = xp.take_along_axis(t, order, axis=-1)
    n = t.shape[-1]
    valid = (~xp.isnan(s)).sum(axis=-1, keepdims=True) if name.startswith("nan") else \
        xp.full(t.shape[:-1] + (1,), n)
    qs = qa.reshape((-1,) + (1,) * (t.ndim))  # (nq, 1..., 1)
    pos = qs * (valid - 1)
    lo = xp.floor(pos)
    hi = xp.ceil(pos)
    if method == "linear":
        w = pos - lo
    elif method == "lower":
        w = xp.zeros_like(pos)
    elif method == "higher":
        w = xp.ones_like(pos)
    elif method == "midpoint":
        w = xp.where(hi > lo, 0.5, 0.0)
    else:
        w = (xp.around(pos) > lo).astype(np.float64)
    lo_i = xp.clip(lo, 0, n - 1).astype(np.int64)
    hi_i = xp.clip(hi, 0, n - 1).astype(np.int64)
    sb = xp.broadcast_to(s, (qs.shape[0],) + s.shape)
    v_lo = xp.take_along_axis(sb, lo_i, axis=-1)
    v_hi = xp.take_along_axis(sb, hi_i, axis=-1)
    w = w.astype(dt)
    y = (v_lo + w * (v_hi - v_lo))[..., 0]
    if name.startswith("nan"):
        y = xp.where(valid[..., 0] == 0, np.nan, y)
    y = y.astype(dt)
    ndq = qa.ndim
    out = y if ndq else y[0]
    if keepdims:
        red = tuple(1 if i in axes else sz for i, sz in enumerate(a.shape))
        out = out.reshape(((qa.shape[0],) if ndq else ()) + red)

    def backward(g, needs):
        gq = xp.asarray(g).reshape((qs.shape[0],) + t.shape[:-1] + (1,))
        gs = xp.zeros((qs.shape[0],) + t.shape, dt)
        for idx, wt in ((lo_i, 1 - w), (hi_i, w)):
            _scatter_add_last(xp, gs, idx, gq * wt)
        gs = gs.sum(axis=0)
        gt = xp.zeros_like(t)
        xp.put_along_axis(gt, order, gs, axis=-1) if hasattr(xp, "put_along_axis") else \
            _put_along(xp, gt, order, gs)
        return (_from_last(gt, a.shape, axes, rest),)

    return record(out, (x,), backward)


def _scatter_add_last(xp, out, idx, vals):
    """out[..., idx[..., 0]] += vals[..., 0] along the last axis (one index per row)."""
    flat = out.reshape(-1, out.shape[-1])
    rows = xp.arange(flat.shape[0])
    flat[rows, idx.reshape(-1)] += vals.reshape(-1)


def _put_along(xp, out, order, vals):
    flat = out.reshape(-1, out.shape[-1])
    rows = xp.arange(flat.shape[0])[:, None]
    flat[rows, order.reshape(flat.shape)] = vals.reshape(flat.shape)


def quantile(x, q, axis=None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """The ``q``-th quantile(s) of ``x`` over ``axis`` (``keras.ops.quantile``).

    Args:
        x: input tensor.
        q: quantile or sequence of quantiles in [0, 1].
        axis: axis or axes to reduce; None reduces over all.
        method: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor; a sequence ``q`` adds a leading axis.

    Example:

    >>> ops.quantile([1.0, 2.0, 3.0, 4.0], 0.5).numpy()
    array(2.5, dtype=float32)
    """
    return _quantile("quantile", x, q, axis, method, keepdims)


def percentile(x, q, axis=None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """The ``q``-th percentile(s) of ``x`` over ``axis`` (``keras.ops.percentile``).

    Args:
        x: input tensor.
        q: percentile or sequence of percentiles in [0, 100].
        axis: axis or axes to reduce; None reduces over all.
        method: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor; a sequence ``q`` adds a leading axis.

    Example:

    >>> ops.percentile([1.0, 2.0, 3.0, 4.0], 50).numpy()
    array(2.5, dtype=float32)
    """
    return _quantile("percentile", x, q, axis, method, keepdims, scale=100.0)


def median(x, axis=None, keepdims: bool = False) -> Tensor:
    """Median over ``axis`` (``keras.ops.median``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A float Tensor.

    Example:

    >>> ops.median([3.0, 1.0, 2.0]).numpy()
    array(2., dtype=float32)
    """
    return _quantile("median", x, 0.5, axis, "linear", keepdims)


def nanquantile(x, q, axis=None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """``quantile`` ignoring NaNs (``keras.ops.nanquantile``).

    Args:
        x: input tensor.
        q: quantile or sequence of quantiles in [0, 1].
        axis: axis or axes to reduce; None reduces over all.
        method: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor (NaN where a slice is all NaN).

    Example:

    >>> ops.nanquantile([1.0, np.nan, 3.0], 0.5).numpy()
    array(2., dtype=float32)
    """
    return _quantile("nanquantile", x, q, axis, method, keepdims)


def nanpercentile(x, q, axis=None, method: str = "linear", keepdims: bool = False) -> Tensor:
    """``percentile`` ignoring NaNs (``keras.ops.nanpercentile``).

    Args:
        x: input tensor.
        q: percentile or sequence of percentiles in [0, 100].
        axis: axis or axes to reduce; None reduces over all.
        method: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor (NaN where a slice is all NaN).

    Example:

    >>> ops.nanpercentile([1.0, np.nan, 3.0], 50).numpy()
    array(2., dtype=float32)
    """
    return _quantile("nanpercentile", x, q, axis, method, keepdims, scale=100.0)


def nanmedian(x, axis=None, keepdims: bool = False) -> Tensor:
    """``median`` ignoring NaNs (``keras.ops.nanmedian``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A float Tensor.

    Example:

    >>> ops.nanmedian([1.0, np.nan, 3.0]).numpy()
    array(2., dtype=float32)
    """
    return _quantile("nanmedian", x, 0.5, axis, "linear", keepdims)


# ---- the NaN-ignoring reductions ---------------------------------------------------------------

def _nanmask(x, name):
    a = arr(x, name)
    return a, xp_of(a).isnan(a) if a.dtype.kind == "f" else None


def _clean(x, a, mask, value):
    """``where(isnan(x), value, x)``, differentiable (a recorded op)."""
    if mask is None:
        return x
    return _mm.where(mask, np.asarray(value, a.dtype), x)


def nansum(x, axis=None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` treating NaNs as zero (``keras.ops.nansum``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor (bool/int8/int16 sum as int32).

    Example:

    >>> ops.nansum([1.0, np.nan, 3.0]).numpy()
    array(4., dtype=float32)
    """
    x = as_tensor(x)
    a, mask = _nanmask(x, "nansum")
    dt = _widen(a.dtype.name)
    xc = _clean(x, a, mask, 0)
    if dt != a.dtype.name:
        xc = _mm.cast(xc, dt)
    y = _mm.sum(xc, axis=axis, keepdims=keepdims)
    return y if y.dtype == dt else _mm.cast(y, dt)


def nanmean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` ignoring NaNs (``keras.ops.nanmean``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A float Tensor (NaN where a slice is all NaN).

    Example:

    >>> ops.nanmean([1.0, np.nan, 3.0]).numpy()
    array(2., dtype=float32)
    """
    x = as_tensor(x)
    a, mask = _nanmask(x, "nanmean")
    if mask is None:
        return _mm.mean(_mm.cast(x, "float32"), axis=axis, keepdims=keepdims)
    xp = xp_of(a)
    count = (~mask).sum(axis=_axes(axis, a.ndim), keepdims=keepdims).astype(a.dtype)
    return _mm.divide(nansum(x, axis, keepdims), xp.asarray(count))


def nanvar(x, axis=None, keepdims: bool = False) -> Tensor:
    """Variance over ``axis`` ignoring NaNs (``keras.ops.nanvar``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A float Tensor.

    Example:

    >>> ops.nanvar([1.0, np.nan, 3.0]).numpy()
    array(1., dtype=float32)
    """
    x = as_tensor(x)
    dt = float_type(x)
    xf = _mm.cast(x, dt) if kind_of(x)[0] != dt else x
    a = arr(xf, "nanvar")
    xp = xp_of(a)
    mask = xp.isnan(a)
    mu = nanmean(xf, axis, keepdims=True)
    centered = _mm.where(mask, np.asarray(0, a.dtype), _mm.subtract(xf, mu))
    count = (~mask).sum(axis=_axes(axis, a.ndim), keepdims=keepdims).astype(a.dtype)
    return _mm.divide(_mm.sum(_mm.square(centered), axis=axis, keepdims=keepdims),
                      xp.asarray(count))


def nanstd(x, axis=None, keepdims: bool = False) -> Tensor:
    """Standard deviation over ``axis`` ignoring NaNs (``keras.ops.nanstd``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A float Tensor.

    Example:

    >>> ops.nanstd([1.0, np.nan, 3.0]).numpy()
    array(1., dtype=float32)
    """
    return _mm.sqrt(nanvar(x, axis, keepdims))


def _nan_extreme(name, x, axis, keepdims, fill, fn):
    x = as_tensor(x)
    a, mask = _nanmask(x, name)
    if mask is None:
        if a.dtype.kind == "b":
            xp = xp_of(a)
            red = xp.any if fn is _mm.max else xp.all
            return Tensor(red(a, axis=_axes(axis, a.ndim), keepdims=keepdims))
        return fn(x, axis=axis, keepdims=keepdims)
    xp = xp_of(a)
    y = fn(_clean(x, a, mask, fill), axis=axis, keepdims=keepdims)
    allnan = mask.all(axis=_axes(axis, a.ndim), keepdims=keepdims)
    return _mm.where(xp.asarray(allnan), np.asarray(np.nan, a.dtype), y)


def nanmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Maximum over ``axis`` ignoring NaNs (``keras.ops.nanmax``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor (NaN where a slice is all NaN).

    Example:

    >>> ops.nanmax([1.0, np.nan, 3.0]).numpy()
    array(3., dtype=float32)
    """
    return _nan_extreme("nanmax", x, axis, keepdims, -np.inf, _mm.max)


def nanmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Minimum over ``axis`` ignoring NaNs (``keras.ops.nanmin``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor (NaN where a slice is all NaN).

    Example:

    >>> ops.nanmin([1.0, np.nan, 3.0]).numpy()
    array(1., dtype=float32)
    """
    return _nan_extreme("nanmin", x, axis, keepdims, np.inf, _mm.min)


def nanprod(x, axis=None, keepdims: bool = False) -> Tensor:
    """Product over ``axis`` treating NaNs as one (``keras.ops.nanprod``).

    Args:
        x: input tensor.
        axis: axis or axes to reduce; None reduces over all.
        keepdims: keep the reduced axes with size 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.nanprod([2.0, np.nan, 3.0]).numpy()
    array(6., dtype=float32)
    """
    x = as_tensor(x)
    a, mask = _nanmask(x, "nanprod")
    return prod(_clean(x, a, mask, 1), axis=axis, keepdims=keepdims)


def _nanarg(name, x, axis, keepdims, fill, fn):
    x = as_tensor(x)
    a, mask = _nanmask(x, name)
    if mask is None:
        return fn(x, axis=axis, keepdims=keepdims)
    xp = xp_of(a)
    y = fn(xp.where(mask, fill, a), axis=axis, keepdims=keepdims).data
    ax = tuple(range(a.ndim)) if axis is None else axis
    allnan = mask.all(axis=ax, keepdims=keepdims) if axis is not None else mask.all()
    return Tensor(xp.where(allnan, -1, y).astype(y.dtype))


def nanargmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the maximum along ``axis`` ignoring NaNs (``keras.ops.nanargmax``).

    Args:
        x: input tensor.
        axis: axis to search; None searches the flattened tensor.
        keepdims: keep the reduced axis with size 1.

    Returns:
        An int32 Tensor (-1 where a slice is all NaN).

    Example:

    >>> ops.nanargmax([1.0, np.nan, 3.0]).numpy()
    array(2, dtype=int32)
    """
    return _nanarg("nanargmax", x, axis, keepdims, -np.inf, _argfn(np.argmax))


def nanargmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the minimum along ``axis`` ignoring NaNs (``keras.ops.nanargmin``).

    Args:
        x: input tensor.
        axis: axis to search; None searches the flattened tensor.
        keepdims: keep the reduced axis with size 1.

    Returns:
        An int32 Tensor (-1 where a slice is all NaN).

    Example:

    >>> ops.nanargmin([1.0, np.nan, 3.0]).numpy()
    array(0, dtype=int32)
    """
    return _nanarg("nanargmin", x, axis, keepdims, np.inf, _argfn(np.argmin))


def _argfn(npfn):
    def f(x, axis=None, keepdims=False):
        a = data_of(x)
        xp = xp_of(a)
        fn = getattr(xp, npfn.__name__)
        if axis is None:
            y = fn(a.reshape(-1))
            if keepdims:
                y = xp.asarray(y).reshape((1,) * a.ndim)
        else:
            y = fn(a, axis=axis, keepdims=keepdims)
        return Tensor(xp.asarray(y).astype(np.int32))
    return f


def nancumsum(x, axis=None, dtype=None) -> Tensor:
    """Cumulative sum along ``axis`` treating NaNs as zero (``keras.ops.nancumsum``).

    Args:
        x: input tensor.
        axis: axis to accumulate along; None flattens first.
        dtype: optional result dtype.

    Returns:
        A Tensor.

    Example:

    >>> ops.nancumsum([1.0, np.nan, 3.0]).numpy()
    array([1., 1., 4.], dtype=float32)
    """
    x = as_tensor(x)
    from .array import cumsum
    a, mask = _nanmask(x, "nancumsum")
    return cumsum(_clean(x, a, mask, 0), axis=axis, dtype=dtype or _cum_type(a))


def nancumprod(x, axis=None, dtype=None) -> Tensor:
    """Cumulative product along ``axis`` treating NaNs as one (``keras.ops.nancumprod``).

    Args:
        x: input tensor.
        axis: axis to accumulate along; None flattens first.
        dtype: optional result dtype.

    Returns:
        A Tensor.

    Example:

    >>> ops.nancumprod([2.0, np.nan, 3.0]).numpy()
    array([2., 2., 6.], dtype=float32)
    """
    x = as_tensor(x)
    from .array import cumprod
    a, mask = _nanmask(x, "nancumprod")
    return cumprod(_clean(x, a, mask, 1), axis=axis, dtype=dtype or _cum_type(a))


def _cum_type(a):
    """Keras's cumulative sum/product dtype: the input's, bool as int32."""
    return "int32" if a.dtype == np.bool_ else a.dtype.name


def nan_to_num(x, nan: float = 0.0, posinf: Optional[float] = None,
               neginf: Optional[float] = None) -> Tensor:
    """Replace NaN and infinities by finite numbers (``keras.ops.nan_to_num``).

    Args:
        x: input tensor.
        nan: the value for NaNs.
        posinf: the value for +inf (default: the dtype's largest finite value).
        neginf: the value for -inf (default: the dtype's lowest finite value).

    Returns:
        A Tensor of ``x``'s dtype; the gradient passes where ``x`` was finite.

    Example:

    >>> ops.nan_to_num([np.nan, 1.0]).numpy()
    array([0., 1.], dtype=float32)
    """
    a = arr(x, "nan_to_num")
    if a.dtype.kind != "f":
        return Tensor(a)
    xp = xp_of(a)
    y = xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    finite = xp.isfinite(a)
    return record(y, (x,), lambda g, n: (xp.where(finite, g, 0).astype(a.dtype),))


# ---- averages, correlation, integration ---------------------------------------------------------

def average(x, axis=None, weights=None) -> Tensor:
    """Weighted average over ``axis`` (``keras.ops.average``).

    Args:
        x: input tensor.
        axis: the axis to average over; None averages all elements.
        weights: optional weights, of ``x``'s shape or 1-D along ``axis``.

    Returns:
        A float Tensor.

    Example:

    >>> ops.average([1.0, 2.0, 3.0], weights=[1.0, 0.0, 1.0]).numpy()
    array(2., dtype=float32)
    """
    if weights is None:
        dt = result_type(x, float)
        return _mm.mean(_mm.cast(x, dt), axis=axis)
    dt = result_type(x, weights, float)
    xf = _mm.cast(x, dt)
    wf = _mm.cast(weights, dt)
    xs, ws = tuple(xf.shape), tuple(wf.shape)
    if axis is not None and len(xs) != len(ws):
        if len(ws) != 1 or ws[0] != xs[axis]:
            raise ValueError(f"average: 1-D weights must have the length of axis {axis} of x; "
                             f"x has shape {xs}, weights has shape {ws}")
        shape = [1] * len(xs)
        shape[axis] = ws[0]
        wb = _mm.reshape(wf, tuple(shape))
        return _mm.divide(_mm.sum(_mm.multiply(xf, wb), axis=axis), _mm.sum(wf))
    return _mm.divide(_mm.sum(_mm.multiply(xf, wf), axis=axis), _mm.sum(wf, axis=axis))


def corrcoef(x) -> Tensor:
    """Pearson correlation coefficients of the rows of ``x`` (``keras.ops.corrcoef``).

    Args:
        x: a 1-D or 2-D tensor; each row is a variable, each column an observation.

    Returns:
        A float Tensor of shape (rows, rows), clipped to [-1, 1].

    Example:

    >>> ops.corrcoef([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]).numpy()
    array([[ 1., -1.],
           [-1.,  1.]], dtype=float32)
    """
    from .numpy_array import _matmul
    dt = float_type64(x)
    xf = _mm.cast(x, dt)
    if xf.ndim == 0:
        return Tensor(np.asarray(np.nan, np.float32))
    n = xf.shape[-1]
    xc = _mm.subtract(xf, _mm.mean(xf, axis=-1, keepdims=True))
    xt = _mm.transpose(xc, tuple(range(xc.ndim - 2)) + (xc.ndim - 1, xc.ndim - 2)) \
        if xc.ndim >= 2 else xc
    cov = _mm.divide(_matmul(xc, xt, xc.data, xt.data), np.asarray(n - 1, dt))
    if cov.ndim == 0:
        return _mm.clip(_mm.divide(cov, cov), -1.0, 1.0)
    d = _mm.sqrt(_diag_part(cov))
    outer = _mm.multiply(_mm.expand_dims(d, -1), _mm.expand_dims(d, 0))
    return _mm.clip(_mm.divide(cov, outer), -1.0, 1.0)


def _diag_part(m):
    from ._npcommon import index_map
    k = m.shape[0]
    return index_map(m, np.arange(k) * (k + 1), "corrcoef")


def trapezoid(y, x=None, dx: float = 1.0, axis: int = -1) -> Tensor:
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (``keras.ops.trapezoid``).

    Args:
        y: the values to integrate.
        x: optional sample points (same shape as ``y`` or 1-D along ``axis``).
        dx: the spacing when ``x`` is None.
        axis: the axis to integrate along.

    Returns:
        A float Tensor.

    Example:

    >>> ops.trapezoid([1.0, 2.0, 3.0]).numpy()
    array(4., dtype=float32)
    """
    dt = result_type(y, float)
    yf = _mm.cast(y, dt)
    nd = yf.ndim
    ax = axis % nd
    n = yf.shape[ax]
    sl = lambda s: tuple(slice(None) if i != ax else s for i in range(nd))  # noqa: E731
    heights = _mm.multiply(_mm.add(_mm.getitem(yf, sl(slice(1, None))),
                                   _mm.getitem(yf, sl(slice(None, n - 1)))), np.asarray(0.5, dt))
    if x is None:
        widths = np.asarray(dx, dt)
    else:
        xf = _mm.cast(x, dt)
        if xf.ndim == 1 and nd > 1:
            shape = [1] * nd
            shape[ax] = xf.shape[0]
            xf = _mm.reshape(xf, tuple(shape))
        m = xf.shape[ax]
        xsl = lambda s: tuple(slice(None) if i != ax else s for i in range(xf.ndim))  # noqa
        widths = _mm.subtract(_mm.getitem(xf, xsl(slice(1, None))),
                              _mm.getitem(xf, xsl(slice(None, m - 1))))
    return _mm.sum(_mm.multiply(heights, widths), axis=ax)


# ---- counting and binning ----------------------------------------------------------------------

def bincount(x, weights=None, minlength: int = 0, sparse: bool = False) -> Tensor:
    """Count the occurrences of each value of a non-negative int tensor (``keras.ops.bincount``).

    Args:
        x: 1-D (or 2-D: one count per row) non-negative integers.
        weights: optional weights of ``x``'s shape, summed instead of counting ones.
        minlength: the least number of bins.
        sparse: not supported (dense output only); must be False.

    Returns:
        A Tensor of length ``max(max(x) + 1, minlength)`` (int32 without weights).

    Example:

    >>> ops.bincount([0, 1, 1, 3]).numpy()
    array([1, 2, 0, 1], dtype=int32)
    """
    if sparse:
        raise ValueError("bincount: sparse=True is not supported by nnforge (dense tensors only)")
    a = arr(x, "bincount")
    xp = xp_of(a)
    if a.dtype.kind not in "iu":  # Keras casts other dtypes to int32
        a = a.astype(np.int32)
    if a.size and int(a.min()) < 0:
        raise ValueError("bincount: argument 'x' must be non-negative")
    dt = "int32" if weights is None else result_type(x, weights)
    w = None if weights is None else arr(weights, "bincount", "weights")
    length = max(int(a.max()) + 1 if a.size else 0, int(minlength))
    if a.ndim == 1:
        out = xp.bincount(a, weights=w, minlength=length)[:length]
    elif a.ndim == 2:
        out = xp.stack([xp.bincount(a[i], weights=None if w is None else w[i],
                                    minlength=length)[:length] for i in range(a.shape[0])])
    else:
        raise ValueError(f"bincount: x must be 1-D or 2-D, got shape {tuple(a.shape)}")
    return Tensor(out.astype(dt))


def histogram(x, bins: int = 10, range=None):  # noqa: A002 - Keras's argument name
    """Histogram of ``x`` with ``bins`` equal-width bins (``keras.ops.histogram``).

    Args:
        x: 1-D input tensor.
        bins: the number of bins.
        range: optional ``(lower, upper)``; default ``(min(x), max(x))``.

    Returns:
        A tuple ``(counts, bin_edges)``; counts have ``x``'s dtype.

    Example:

    >>> counts, edges = ops.histogram([0.0, 1.0, 1.0, 2.0], bins=2)
    >>> counts.numpy()
    array([1., 3.], dtype=float32)
    """
    a = arr(x, "histogram")
    if a.ndim != 1:
        raise ValueError(f"histogram: x must be 1-D, got shape {tuple(a.shape)}")
    if not isinstance(bins, int) or bins <= 0:
        raise ValueError(f"histogram: bins must be a positive integer, got {bins!r}")
    xp = xp_of(a)
    lo, hi = (a.min(), a.max()) if range is None else range
    sel = a[(a >= lo) & (a <= hi)]
    edges = xp.linspace(float(lo), float(hi), bins + 1).astype(a.dtype)
    idx = xp.searchsorted(edges[1:-1], sel, side="right")
    counts = xp.bincount(idx, minlength=bins)[:bins].astype(a.dtype)
    return Tensor(counts), Tensor(edges)


def digitize(x, bins) -> Tensor:
    """Index of the bin each element of ``x`` falls in (``keras.ops.digitize``).

    Args:
        x: input tensor.
        bins: 1-D increasing bin edges.

    Returns:
        An int32 Tensor: ``i`` such that ``bins[i-1] <= x < bins[i]``.

    Example:

    >>> ops.digitize([0.5, 1.5, 3.0], [1.0, 2.0]).numpy()
    array([0, 1, 2], dtype=int32)
    """
    a = arr(x, "digitize")
    xp = xp_of(a)
    b = xp.asarray(backend.to_numpy(data_of(bins, "digitize", "bins")).astype(np.float64))
    return Tensor(xp.searchsorted(b, a.astype(np.float64), side="right").astype(np.int32))


def searchsorted(sorted_sequence, values, side: str = "left") -> Tensor:
    """Indices where ``values`` would be inserted to keep ``sorted_sequence`` sorted
    (``keras.ops.searchsorted``).

    Args:
        sorted_sequence: 1-D sorted tensor.
        values: the values to place.
        side: ``"left"`` (first suitable index) or ``"right"`` (last).

    Returns:
        An int32 Tensor of ``values``'s shape.

    Example:

    >>> ops.searchsorted([1.0, 2.0, 3.0], [2.0, 2.5]).numpy()
    array([1, 2], dtype=int32)
    """
    s = arr(sorted_sequence, "searchsorted", "sorted_sequence")
    v = arr(values, "searchsorted", "values")
    if s.ndim != 1:
        raise ValueError(f"searchsorted: sorted_sequence must be 1-D, got shape {tuple(s.shape)}")
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    s, v = same_backend(s, v)
    return Tensor(xp_of(s).searchsorted(s, v, side=side).astype(np.int32))


__all__ = ["amax", "amin", "average", "bincount", "corrcoef", "count_nonzero", "digitize",
           "histogram", "median", "nan_to_num", "nanargmax", "nanargmin", "nancumprod",
           "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod",
           "nanquantile", "nanstd", "nansum", "nanvar", "percentile", "prod", "ptp", "quantile",
           "searchsorted", "trapezoid"]
