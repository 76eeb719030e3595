"""Layer and RMS normalization ops (``keras.ops.layer_normalization``, ``rms_normalization``),
each one forward pass and one closed-form backward pass over the normalized axes."""
from __future__ import annotations

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._util import float_data, unbroadcast


def _norm_axes(axis, ndim: int, fn: str):
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if ndim == 0:
        raise ValueError(f"{fn}: input must be at least 1-D")
    out = []
    for a in axes:
        if not -ndim <= int(a) < ndim:
            raise ValueError(f"{fn}: axis {a} is out of range for an input of rank {ndim}")
        out.append(int(a) % ndim)
    return tuple(sorted(out))


def _param(p, x, axes, fn: str, arg: str):
    """``p`` as an array broadcastable to ``x`` (reshaped to the normalized axes when it holds
    only their sizes, as Keras does)."""
    if p is None:
        return None
    a = float_data(p, fn, arg, like=x)
    if a.ndim != x.ndim and axes != (x.ndim - 1,):
        shape = [1] * x.ndim
        for d in axes:
            shape[d] = x.shape[d]
        a = a.reshape(shape)
    return a


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs) -> Tensor:
    """Layer normalization (Ba et al., 2016): each example normalized over ``axis`` to zero mean
    and unit variance, then scaled by ``gamma`` and shifted by ``beta``.

    Args:
        x: input tensor.
        gamma: optional scale, broadcastable to ``x`` (or of the normalized axes' shape).
        beta: optional offset, likewise.
        axis: the axis or axes to normalize over (default -1).
        epsilon: added to the variance; None means 1e-7 (``backend.epsilon()``).

    Returns:
        A float32 Tensor of ``x``'s shape.

    Example:

    >>> ops.layer_normalization(np.arange(5, dtype="float32")).numpy()
    array([-1.4142135 , -0.70710677,  0.        ,  0.70710677,  1.4142135 ], dtype=float32)
    """
    if kwargs.pop("rms_scaling", False):
        raise ValueError("layer_normalization: rms_scaling is deprecated in Keras; use "
                         "ops.rms_normalization instead")
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected arguments {sorted(kwargs)}")
    a = float_data(x, "layer_normalization", "x")
    axes = _norm_axes(axis, a.ndim, "layer_normalization")
    eps = np.float32(backend.epsilon() if epsilon is None else epsilon)
    g = _param(gamma, a, axes, "layer_normalization", "gamma")
    bt = _param(beta, a, axes, "layer_normalization", "beta")
    xp = backend.of(a).xp
    mean = a.mean(axis=axes, keepdims=True)
    centered = a - mean
    var = xp.mean(xp.square(centered), axis=axes, keepdims=True)
    inv = 1.0 / xp.sqrt(var + eps)
    xhat = centered * inv
    y = xhat * g if g is not None else xhat
    if bt is not None:
        y = y + bt

    def backward(gy, needs):
        gx = gg = gb = None
        if needs[0]:
            d = gy * g if g is not None else gy
            gx = inv * (d - d.mean(axis=axes, keepdims=True)
                        - xhat * (d * xhat).mean(axis=axes, keepdims=True))
        if needs[1]:
            gg = unbroadcast(gy * xhat, g.shape).reshape(np.shape(gamma))
        if needs[2]:
            gb = unbroadcast(gy, bt.shape).reshape(np.shape(beta))
        return gx, gg, gb

    return record(y.astype(np.float32, copy=False), (x, gamma, beta), backward)


def rms_normalization(x, scale=None, axis=-1, epsilon=None) -> Tensor:
    """Root-mean-square normalization (Zhang and Sennrich, 2019):
    ``x * rsqrt(mean(square(x), axis) + epsilon) * scale``.

    Args:
        x: input tensor.
        scale: optional scale, broadcastable to ``x`` (or of the normalized axes' shape).
        axis: the axis or axes to normalize over (default -1).
        epsilon: added to the mean square; None means 1e-7 (``backend.epsilon()``).

    Returns:
        A float32 Tensor of ``x``'s shape.

    Example:

    >>> ops.rms_normalization(np.array([[3.0, 4.0]])).numpy()
    array([[0.84852815, 1.1313709 ]], dtype=float32)
    """
    a = float_data(x, "rms_normalization", "x")
    x_shape = tuple(a.shape)
    if a.ndim == 0:
        a = a.reshape(1)
    axes = _norm_axes(axis, a.ndim, "rms_normalization")
    eps = np.float32(backend.epsilon() if epsilon is None else epsilon)
    s = _param(scale, a, axes, "rms_normalization", "scale")
    xp = backend.of(a).xp
    r = 1.0 / xp.sqrt(xp.mean(xp.square(a), axis=axes, keepdims=True) + eps)
    xhat = a * r
    y = xhat * s if s is not None else xhat

    def backward(gy, needs):
        gx = gs = None
        if needs[0]:
            d = gy * s if s is not None else gy
            gx = r * (d - xhat * (d * xhat).mean(axis=axes, keepdims=True))
            gx = gx.reshape(x_shape)
        if needs[1]:
            gs = unbroadcast(gy * xhat, s.shape).reshape(np.shape(scale))
        return gx, gs

    return record(y.astype(np.float32, copy=False), (x, scale), backward)
