"""More of ``keras.ops.nn``: the shrink/sparse/hard activation family, GLU, sparsemax,
normalization helpers (moments, batch_normalization, normalize), element-wise binary
cross-entropy, multi_hot, pixel (un)shuffle, unfold/fold (im2col/col2im, NCHW), framing,
PSNR and polar.

Element-wise activations compute their forward and backward on the backend's array module
(NumPy or CuPy) in one pass each; the structural ops are compositions of differentiable ops or
record their own scatter/gather backward."""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._util import data_of, float_data, same_backend
from .array import split
from .core import _ufunc_at
from .math import (add, clip, divide, expand_dims, log, maximum, mean, multiply, negative, norm,
                   reshape, sqrt, square, squeeze, subtract, sum, transpose)
from .nn import sigmoid

__all__ = ["celu", "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh", "soft_shrink",
           "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "tanh_shrink",
           "threshold", "mish", "batch_normalization", "moments", "normalize",
           "binary_crossentropy", "multi_hot", "depth_to_space", "space_to_depth", "unfold",
           "fold", "extract_sequences", "psnr", "polar"]

_EPSILON = 1e-7  # keras.config.epsilon()


def _f32(x, fn: str, arg: str):
    """``x`` as float32 data of its own shape (``float_data`` turns 0-d input into (1,))."""
    src = data_of(x, fn, arg)
    return float_data(src, fn, arg).reshape(src.shape)


def _act(name: str, x, fwd, grad) -> Tensor:
    """An element-wise activation: ``fwd(a, xp)`` forward, ``grad(g, a, y, xp)`` backward."""
    a = _f32(x, name, "x")
    xp = backend.of(a).xp
    y = fwd(a, xp)
    return record(y, (x,), lambda g, n: (grad(g, a, y, xp).astype(a.dtype, copy=False),))


# ---- activations ---------------------------------------------------------------------------------

def celu(x, alpha: float = 1.0) -> Tensor:
    """Continuously-differentiable ELU: ``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``
    (``keras.ops.celu``).

    Args:
        x: input tensor.
        alpha: the scale of the negative part (> 0).

    Returns:
        A float32 Tensor of the shape of ``x``.

    Example:

    >>> ops.celu([-1.0, 0.0, 1.0]).numpy()
    array([-0.63212055,  0.        ,  1.        ], dtype=float32)
    """
    al = np.float32(alpha)
    return _act("celu", x,
                lambda a, xp: xp.maximum(a, 0) + al * xp.expm1(xp.minimum(a, 0) / al),
                lambda g, a, y, xp: g * xp.where(a > 0, np.float32(1),
                                                 xp.exp(xp.minimum(a, 0) / al)))


def glu(x, axis: int = -1) -> Tensor:
    """Gated linear unit: splits ``x`` in two halves ``a, b`` along ``axis`` and returns
    ``a * sigmoid(b)`` (``keras.ops.glu``).

    Args:
        x: input tensor; its size along ``axis`` must be even.
        axis: the axis to split.

    Returns:
        A Tensor with half the size along ``axis``.

    Example:

    >>> ops.glu([[1.0, 0.0]]).numpy()
    array([[0.5]], dtype=float32)
    """
    a = data_of(x, "glu", "x")
    if a.ndim == 0 or a.shape[axis] % 2 != 0:
        raise ValueError(f"glu: the size of axis {axis} must be divisible by 2, got x with "
                         f"shape {tuple(a.shape)}")
    x1, x2 = split(x if isinstance(x, Tensor) else Tensor(a.astype(np.float32)), 2, axis=axis)
    return multiply(x1, sigmoid(x2))


def hard_shrink(x, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0 (``keras.ops.hard_shrink``).

    Args:
        x: input tensor.
        threshold: the threshold.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.hard_shrink([-1.0, 0.2, 0.7]).numpy()
    array([-1. ,  0. ,  0.7], dtype=float32)
    """
    t = np.float32(threshold)
    return _act("hard_shrink", x, lambda a, xp: xp.where(xp.abs(a) > t, a, np.float32(0)),
                lambda g, a, y, xp: g * (xp.abs(a) > t))


def hard_silu(x) -> Tensor:
    """Hard SiLU ``x * relu6(x + 3) / 6`` (``keras.ops.hard_silu``, also ``hard_swish``).

    Args:
        x: input tensor.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.hard_silu([-4.0, 0.0, 1.0, 4.0]).numpy()
    array([-0.       ,  0.       ,  0.6666667,  4.       ], dtype=float32)
    """
    def fwd(a, xp):
        return a * xp.clip(a / np.float32(6) + np.float32(0.5), 0, 1)

    def grad(g, a, y, xp):
        hs = xp.clip(a / np.float32(6) + np.float32(0.5), 0, 1)
        return g * (hs + a * ((a > -3) & (a < 3)) / np.float32(6))
    return _act("hard_silu", x, fwd, grad)


def hard_swish(x) -> Tensor:
    """Alias of ``hard_silu`` (``keras.ops.hard_swish``).

    Example:

    >>> ops.hard_swish([1.0]).numpy()
    array([0.6666667], dtype=float32)
    """
    return hard_silu(x)


def hard_tanh(x) -> Tensor:
    """``clip(x, -1, 1)`` (``keras.ops.hard_tanh``).

    Args:
        x: input tensor.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.hard_tanh([-2.0, 0.5, 2.0]).numpy()
    array([-1. ,  0.5,  1. ], dtype=float32)
    """
    return _act("hard_tanh", x, lambda a, xp: xp.clip(a, -1, 1),
                lambda g, a, y, xp: g * ((a > -1) & (a < 1)))


def soft_shrink(x, threshold: float = 0.5) -> Tensor:
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0
    (``keras.ops.soft_shrink``).

    Args:
        x: input tensor.
        threshold: the threshold.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.soft_shrink([-1.0, 0.2, 1.0]).numpy()
    array([-0.5,  0. ,  0.5], dtype=float32)
    """
    t = np.float32(threshold)
    return _act("soft_shrink", x,
                lambda a, xp: xp.where(a > t, a - t, xp.where(a < -t, a + t, np.float32(0))),
                lambda g, a, y, xp: g * ((a > t) | (a < -t)))


def sparse_plus(x) -> Tensor:
    """SparsePlus: 0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``-1 < x < 1``, ``x`` above
    (``keras.ops.sparse_plus``).

    Args:
        x: input tensor.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.sparse_plus([-2.0, 0.0, 2.0]).numpy()
    array([0.  , 0.25, 2.  ], dtype=float32)
    """
    def fwd(a, xp):
        return xp.where(a <= -1, np.float32(0),
                        xp.where(a < 1, np.float32(0.25) * (a + 1) ** 2, a))

    def grad(g, a, y, xp):
        return g * xp.where(a <= -1, np.float32(0),
                            xp.where(a < 1, np.float32(0.5) * (a + 1), np.float32(1)))
    return _act("sparse_plus", x, fwd, grad)


def sparse_sigmoid(x) -> Tensor:
    """``clip((x + 1) / 2, 0, 1)`` (``keras.ops.sparse_sigmoid``).

    Args:
        x: input tensor.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.sparse_sigmoid([-2.0, 0.0, 2.0]).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    return _act("sparse_sigmoid", x, lambda a, xp: xp.clip(np.float32(0.5) * (a + 1), 0, 1),
                lambda g, a, y, xp: g * ((a > -1) & (a < 1)) * np.float32(0.5))


def squareplus(x, b: float = 4) -> Tensor:
    """SquarePlus ``(x + sqrt(x**2 + b)) / 2`` (``keras.ops.squareplus``).

    Args:
        x: input tensor.
        b: smoothness (>= 0).

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.squareplus([0.0]).numpy()
    array([1.], dtype=float32)
    """
    bb = np.float32(b)
    return _act("squareplus", x, lambda a, xp: (a + xp.sqrt(a * a + bb)) / np.float32(2),
                lambda g, a, y, xp: g * np.float32(0.5) * (1 + a / xp.sqrt(a * a + bb)))


def tanh_shrink(x) -> Tensor:
    """``x - tanh(x)`` (``keras.ops.tanh_shrink``).

    Args:
        x: input tensor.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.tanh_shrink([0.0, 1.0]).numpy()
    array([0.        , 0.23840582], dtype=float32)
    """
    return _act("tanh_shrink", x, lambda a, xp: a - xp.tanh(a),
                lambda g, a, y, xp: g * xp.tanh(a) ** 2)


def threshold(x, threshold: float, default_value: float) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value`` (``keras.ops.threshold``).

    Args:
        x: input tensor.
        threshold: the threshold.
        default_value: the value below (or at) the threshold.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.threshold([-1.0, 2.0], 0.0, -5.0).numpy()
    array([-5.,  2.], dtype=float32)
    """
    t = np.float32(threshold)
    d = np.float32(default_value)
    return _act("threshold", x, lambda a, xp: xp.where(a > t, a, d),
                lambda g, a, y, xp: g * (a > t))


def mish(x) -> Tensor:
    """Mish ``x * tanh(softplus(x))`` (``keras.activations.mish``).

    Args:
        x: input tensor.

    Returns:
        A float32 Tensor.

    Example:

    >>> ops.mish([1.0]).numpy()
    array([0.8650984], dtype=float32)
    """
    # tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2): one exp instead of
    # log/exp/tanh; x is capped at 20 inside, where the ratio is 1 in float32
    def tsp(a, xp):
        e = xp.exp(xp.minimum(a, np.float32(20)))
        n = e * (e + np.float32(2))
        return n / (n + np.float32(2)), e

    def fwd(a, xp):
        return a * tsp(a, xp)[0]

    def grad(g, a, y, xp):
        t, e = tsp(a, xp)
        s = xp.where(a < 20, e / (np.float32(1) + e), np.float32(1))
        return g * (t + a * (1 - t * t) * s)
    return _act("mish", x, fwd, grad)


def sparsemax(x, axis: int = -1) -> Tensor:
    """Sparsemax: the Euclidean projection of ``x`` onto the probability simplex along
    ``axis`` (``keras.ops.sparsemax``; Martins & Astudillo, 2016); many outputs are exactly 0.

    Keras 3.15's own implementation miscomputes the threshold when more than one entry is
    nonzero (its outputs then do not sum to 1); nnforge computes the definition, which agrees
    with Keras wherever Keras's output sums to 1.

    Args:
        x: input tensor (logits).
        axis: the axis to normalize.

    Returns:
        A float32 Tensor summing to 1 along ``axis``.

    Example:

    >>> ops.sparsemax([[1.0, 2.0, 5.0]]).numpy()
    array([[0., 0., 1.]], dtype=float32)
    """
    a = float_data(x, "sparsemax", "x")
    if a.ndim == 0:
        raise ValueError("sparsemax: input must be at least 1-D")
    xp = backend.of(a).xp
    ax = axis % a.ndim
    srt = -xp.sort(-a, axis=ax)
    csum = xp.cumsum(srt, axis=ax)
    shape = [1] * a.ndim
    shape[ax] = -1
    r = xp.arange(1, a.shape[ax] + 1, dtype=a.dtype).reshape(shape)
    support = srt - (csum - 1) / r > 0
    k = support.sum(axis=ax, keepdims=True)
    # tau = (sum of the k largest - 1) / k. (Keras 3.15 sums the cumulative sums over the
    # support instead, which is right only for k == 1: its outputs then do not sum to 1.)
    tau = (xp.take_along_axis(csum, k - 1, axis=ax) - 1) / k.astype(a.dtype)
    y = xp.maximum(a - tau, 0).astype(a.dtype)

    def backward(g, needs):
        m = (y > 0).astype(g.dtype)
        nz = xp.maximum(m.sum(axis=ax, keepdims=True), 1)
        return (m * (g - (g * m).sum(axis=ax, keepdims=True) / nz),)

    return record(y, (x,), backward)


# ---- normalization -------------------------------------------------------------------------------

def _as_tensor(x, fn: str, arg: str) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(_f32(x, fn, arg))


def moments(x, axes, keepdims: bool = False, synchronized: bool = False) -> Tuple[Tensor, Tensor]:
    """Mean and variance of ``x`` over ``axes`` (``keras.ops.moments``).

    Args:
        x: input tensor.
        axes: an int or a list of ints, the axes to reduce.
        keepdims: keep the reduced axes with size 1.
        synchronized: only meaningful for multi-device training; nnforge computes the moments of
            the array it is given (a single process's batch), so True is accepted and gives the
            same result.

    Returns:
        ``(mean, variance)``, two Tensors.

    Example:

    >>> m, v = ops.moments([1.0, 2.0, 3.0], axes=[0])
    >>> float(m), float(v)
    (2.0, 0.6666666865348816)
    """
    xt = _as_tensor(x, "moments", "x")
    ax = tuple(axes) if isinstance(axes, (list, tuple)) else (axes,)
    m = mean(xt, axis=ax, keepdims=True)
    v = mean(square(subtract(xt, m)), axis=ax, keepdims=True)
    if not keepdims:
        m = squeeze(m, axis=ax)
        v = squeeze(v, axis=ax)
    return m, v


def batch_normalization(x, mean, variance, axis: int, offset=None, scale=None,
                        epsilon: float = 1e-3) -> Tensor:
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with the 1-D statistics laid
    along ``axis`` (``keras.ops.batch_normalization``).

    Args:
        x: input tensor.
        mean: 1-D mean, of size ``x.shape[axis]``.
        variance: 1-D variance, same size.
        axis: the feature axis of ``x``.
        offset: optional 1-D offset (beta).
        scale: optional 1-D scale (gamma).
        epsilon: added to the variance.

    Returns:
        A Tensor of the shape of ``x``.

    Example:

    >>> ops.batch_normalization([[1.0, 2.0]], [1.0, 1.0], [1.0, 4.0], axis=1,
    ...                         epsilon=0.0).numpy()
    array([[0. , 0.5]], dtype=float32)
    """
    xt = _as_tensor(x, "batch_normalization", "x")
    nd = len(xt.shape)
    ax = axis % nd
    size = xt.shape[ax]
    shape = [1] * nd
    shape[ax] = size

    def stat(v, arg):
        vt = _as_tensor(v, "batch_normalization", arg)
        if tuple(vt.shape) != (size,):
            raise ValueError(f"batch_normalization: '{arg}' must have shape ({size},) to match "
                             f"axis {axis} of x with shape {tuple(xt.shape)}, got "
                             f"{tuple(vt.shape)}")
        return reshape(vt, shape)

    inv = divide(1.0, sqrt(add(stat(variance, "variance"), np.float32(epsilon))))
    if scale is not None:
        inv = multiply(inv, stat(scale, "scale"))
    res = multiply(negative(stat(mean, "mean")), inv)
    if offset is not None:
        res = add(res, stat(offset, "offset"))
    return add(multiply(xt, inv), res)


def normalize(x, axis: int = -1, order: int = 2, epsilon: Optional[float] = None) -> Tensor:
    """``x`` divided by its ``order``-norm along ``axis`` (``keras.ops.normalize``).

    Args:
        x: input tensor.
        axis: the axis (or axes) of the norm.
        order: the norm's order, an int >= 1.
        epsilon: lower bound of the norm (default ``keras.config.epsilon()``, 1e-7).

    Returns:
        A Tensor of the shape of ``x`` (1-D for a scalar input).

    Example:

    >>> ops.normalize([3.0, 4.0]).numpy()
    array([0.6, 0.8], dtype=float32)
    """
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"normalize: argument 'order' must be an int >= 1, got {order!r}")
    xt = _as_tensor(x, "normalize", "x")
    if len(xt.shape) == 0:
        xt = expand_dims(xt, 0)
    eps = _EPSILON if epsilon is None else epsilon
    if order == 2:
        # min(rsqrt(s), 1/eps), written as 1/sqrt(max(s, eps**2)) so zero rows do not divide
        # by zero (same values and gradients)
        ssq = sum(square(xt), axis=axis, keepdims=True)
        return divide(xt, sqrt(maximum(ssq, np.float32(eps * eps))))
    n = norm(xt, ord=order, axis=axis, keepdims=True)
    return divide(xt, maximum(n, np.float32(eps)))


# ---- losses and encodings ------------------------------------------------------------------------

def binary_crossentropy(target, output, from_logits: bool = False) -> Tensor:
    """Element-wise binary cross-entropy (``keras.ops.binary_crossentropy``; no mean).

    Args:
        target: labels in [0, 1], same shape as ``output``.
        output: probabilities (or logits when ``from_logits``).
        from_logits: whether ``output`` holds logits; a sigmoid output keeps its logits and
            uses them, as Keras does.

    Returns:
        A Tensor of the shape of ``output``.

    Example:

    >>> ops.binary_crossentropy([1.0, 0.0], [0.5, 0.5]).numpy()
    array([0.6931472, 0.6931472], dtype=float32)
    """
    t = data_of(target, "binary_crossentropy", "target")
    o = data_of(output, "binary_crossentropy", "output")
    if tuple(t.shape) != tuple(o.shape):
        raise ValueError(f"binary_crossentropy: target and output must have the same shape, "
                         f"got target.shape={tuple(t.shape)}, output.shape={tuple(o.shape)}")
    tt = target if isinstance(target, Tensor) else Tensor(t.astype(np.float32))
    if not from_logits and isinstance(output, Tensor) and output._keras_logits is not None:
        output, from_logits = output._keras_logits, True
    if from_logits:
        z = _as_tensor(output, "binary_crossentropy", "output")
        za = z.data.astype(np.float32)
        tf = tt.data.astype(np.float32)
        xp = backend.of(za).xp
        za, tf = same_backend(za, tf)
        # max(z, 0) - z * t + log(1 + exp(-|z|)), as tf.nn.sigmoid_cross_entropy_with_logits
        y = xp.maximum(za, 0) - za * tf + xp.log1p(xp.exp(-xp.abs(za)))

        def backward(g, needs):
            s = 1 / (1 + xp.exp(-za))
            return (g * -za if needs[0] else None, g * (s - tf) if needs[1] else None)

        return record(y.astype(np.float32), (tt, z), backward)
    out = clip(_as_tensor(output, "binary_crossentropy", "output"), _EPSILON, 1.0 - _EPSILON)
    bce = add(multiply(tt, log(out)), multiply(subtract(1.0, tt), log(subtract(1.0, out))))
    return negative(bce)


def multi_hot(inputs, num_classes: Optional[int] = None, axis: int = -1, dtype=None,
              sparse: bool = False, **kwargs) -> Tensor:
    """Multi-hot encode integer labels (``keras.ops.multi_hot``): for 2-D ``(batch, n)``
    input, a ``(batch, num_classes)`` result with 1 at every label of the row; for 1-D input,
    one ``(num_classes,)`` vector.

    Args:
        inputs: integer labels; negative ones are ignored.
        num_classes: the number of classes (``num_tokens`` is accepted as its old name).
        axis: where the class axis goes.
        dtype: result dtype (float32 by default).
        sparse: sparse output is not supported by nnforge (raises ValueError).

    Returns:
        A Tensor.

    Example:

    >>> ops.multi_hot([0, 4], num_classes=5).numpy()
    array([1., 0., 0., 0., 1.], dtype=float32)
    """
    if num_classes is None and "num_tokens" in kwargs:
        num_classes = kwargs.pop("num_tokens")
    if kwargs:
        raise TypeError(f"multi_hot: unexpected arguments {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("multi_hot: argument 'num_classes' must be specified")
    if sparse:
        raise ValueError("multi_hot: sparse=True is not supported by nnforge")
    a = data_of(inputs, "multi_hot", "inputs")
    xp = backend.of(a).xp
    a = a.astype(np.int64)
    flat = a.reshape(-1)
    oh = xp.zeros((flat.shape[0], int(num_classes)), dtype=np.dtype(dtype or "float32"))
    ok = (flat >= 0) & (flat < num_classes)
    rows = xp.arange(flat.shape[0])[ok]
    oh[rows, flat[ok]] = 1
    oh = oh.reshape(tuple(a.shape) + (int(num_classes),))
    if axis != -1:
        oh = xp.moveaxis(oh, -1, axis)
    red = 1 if a.ndim > 1 else 0
    return Tensor(oh.max(axis=red))


# ---- rearrangements ------------------------------------------------------------------------------

def _check4d(fn, x):
    shape = tuple(x.shape)
    if len(shape) != 4:
        raise ValueError(f"{fn}: expected a 4-D input, got shape {shape}")
    return shape


def depth_to_space(x, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Pixel shuffle: moves ``block_size**2`` channel groups into spatial blocks
    (``keras.ops.depth_to_space``).

    Args:
        x: 4-D input, NHWC (``channels_last``) or NCHW (``channels_first``).
        block_size: the spatial block size; the channels must be divisible by its square.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A Tensor of shape ``(N, H*b, W*b, C/b**2)`` (channels_last).

    Example:

    >>> ops.depth_to_space(np.ones((1, 2, 2, 4)), 2).shape
    (1, 4, 4, 1)
    """
    xt = _as_tensor(x, "depth_to_space", "x")
    b = int(block_size)
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"depth_to_space: data_format must be 'channels_last' or "
                         f"'channels_first', got {data_format!r}")
    if data_format == "channels_last":
        n, h, w, c = _check4d("depth_to_space", xt)
        if c % (b * b):
            raise ValueError(f"depth_to_space: channels ({c}) must be divisible by "
                             f"block_size**2 ({b * b}); x has shape {tuple(xt.shape)}")
        y = transpose(reshape(xt, (n, h, w, b, b, c // (b * b))), (0, 1, 3, 2, 4, 5))
        return reshape(y, (n, h * b, w * b, c // (b * b)))
    # channels_first: the NHWC rearrangement on the transposed input, as TensorFlow does
    # (channel index = (row in block * b + column in block) * C' + c')
    _check4d("depth_to_space", xt)
    y = depth_to_space(transpose(xt, (0, 2, 3, 1)), b, "channels_last")
    return transpose(y, (0, 3, 1, 2))


def space_to_depth(x, block_size: int, data_format: str = "channels_last") -> Tensor:
    """Pixel unshuffle: moves ``block_size x block_size`` spatial blocks into channels
    (``keras.ops.space_to_depth``).

    Args:
        x: 4-D input, NHWC (``channels_last``) or NCHW (``channels_first``).
        block_size: the block size; height and width must be divisible by it.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A Tensor of shape ``(N, H/b, W/b, C*b**2)`` (channels_last).

    Example:

    >>> ops.space_to_depth(np.ones((1, 4, 4, 1)), 2).shape
    (1, 2, 2, 4)
    """
    xt = _as_tensor(x, "space_to_depth", "x")
    b = int(block_size)
    if data_format != "channels_last":
        _check4d("space_to_depth", xt)
        y = space_to_depth(transpose(xt, (0, 2, 3, 1)), b, "channels_last")
        return transpose(y, (0, 3, 1, 2))
    n, h, w, c = _check4d("space_to_depth", xt)
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height and width must be divisible by block_size "
                         f"({b}); x has shape {tuple(xt.shape)}")
    y = transpose(reshape(xt, (n, h // b, b, w // b, b, c)), (0, 1, 3, 2, 4, 5))
    return reshape(y, (n, h // b, w // b, c * b * b))


def _pair(v, fn, arg) -> Tuple[int, int]:
    if isinstance(v, (int, np.integer)):
        return int(v), int(v)
    v = tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f"{fn}: '{arg}' must be an int or a pair of ints, got {v}")
    return v


def _unfold_index(h, w, k, d, p, s, xp):
    """Flat indices into a padded ``(h + 2p0, w + 2p1)`` plane, shaped ``(kh*kw, L)``."""
    hp, wp = h + 2 * p[0], w + 2 * p[1]
    oh = (hp - (k[0] - 1) * d[0] - 1) // s[0] + 1
    ow = (wp - (k[1] - 1) * d[1] - 1) // s[1] + 1
    if oh <= 0 or ow <= 0:
        return None, hp, wp, oh, ow
    ki = np.arange(k[0])[:, None] * d[0]
    kj = np.arange(k[1])[None, :] * d[1]
    oi = np.arange(oh)[:, None] * s[0]
    oj = np.arange(ow)[None, :] * s[1]
    rows = (ki.reshape(-1, 1, 1, 1) + oi.reshape(1, 1, -1, 1))
    cols = (kj.reshape(1, -1, 1, 1) + oj.reshape(1, 1, 1, -1))
    idx = (rows * wp + cols).reshape(k[0] * k[1], oh * ow)
    return xp.asarray(idx), hp, wp, oh, ow


def unfold(x, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding blocks of an NCHW image (im2col, ``keras.ops.unfold``, as
    ``torch.nn.functional.unfold``).

    Args:
        x: ``(N, C, H, W)`` input.
        kernel_size: int or ``(kh, kw)``.
        dilation: int or pair.
        padding: int or pair, zero padding on both sides.
        stride: int or pair.

    Returns:
        A ``(N, C*kh*kw, L)`` Tensor, ``L`` the number of block positions.

    Example:

    >>> ops.unfold(np.ones((1, 2, 4, 4)), 2).shape
    (1, 8, 9)
    """
    a = data_of(x, "unfold", "x")
    if a.ndim != 4:
        raise ValueError(f"unfold: expected a 4-D (N, C, H, W) input, got shape {tuple(a.shape)}")
    k = _pair(kernel_size, "unfold", "kernel_size")
    d = _pair(dilation, "unfold", "dilation")
    p = _pair(padding, "unfold", "padding")
    s = _pair(stride, "unfold", "stride")
    xp = backend.of(a).xp
    n, c, h, w = a.shape
    idx, hp, wp, oh, ow = _unfold_index(h, w, k, d, p, s, xp)
    if idx is None:
        raise ValueError(f"unfold: kernel {k} with dilation {d} does not fit the padded input "
                         f"({hp}, {wp}) of x with shape {tuple(a.shape)}")
    ap = xp.pad(a, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))) if p != (0, 0) else a
    flat = ap.reshape(n, c, hp * wp)
    y = flat[:, :, idx].reshape(n, c * k[0] * k[1], oh * ow)

    def backward(g, needs):
        gp = _fold_raw(g, n, c, k, idx, hp, wp, xp)
        return (gp[:, :, p[0]:p[0] + h, p[1]:p[1] + w],)

    return record(y, (x,), backward)


def _fold_raw(cols, n, c, k, idx, hp, wp, xp):
    """Scatter-add ``(N, C*kh*kw, L)`` columns into a padded ``(N, C, hp, wp)`` image."""
    out = xp.zeros((n * c, hp * wp), dtype=cols.dtype)
    src = cols.reshape(n * c, idx.size)
    flat_idx = idx.reshape(-1)
    _ufunc_at(xp, "add", out, (slice(None), flat_idx), src)
    return out.reshape(n, c, hp, wp)


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum sliding blocks back into an NCHW image (col2im, ``keras.ops.fold``, as
    ``torch.nn.functional.fold``); the adjoint of ``unfold``.

    Args:
        x: ``(N, C*kh*kw, L)`` blocks.
        output_size: int or ``(H, W)``, the image size.
        kernel_size: int or ``(kh, kw)``.
        dilation: int or pair.
        padding: int or pair.
        stride: int or pair.

    Returns:
        A ``(N, C, H, W)`` Tensor.

    Example:

    >>> ops.fold(ops.unfold(np.ones((1, 1, 3, 3), "float32"), 2), 3, 2).numpy()[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]], dtype=float32)
    """
    a = data_of(x, "fold", "x")
    if a.ndim != 3:
        raise ValueError(f"fold: expected a 3-D (N, C*kh*kw, L) input, got shape "
                         f"{tuple(a.shape)}")
    o = _pair(output_size, "fold", "output_size")
    k = _pair(kernel_size, "fold", "kernel_size")
    d = _pair(dilation, "fold", "dilation")
    p = _pair(padding, "fold", "padding")
    s = _pair(stride, "fold", "stride")
    xp = backend.of(a).xp
    n, ckk, length = a.shape
    if ckk % (k[0] * k[1]):
        raise ValueError(f"fold: x.shape[1] ({ckk}) must be divisible by kh*kw "
                         f"({k[0] * k[1]}); x has shape {tuple(a.shape)}")
    c = ckk // (k[0] * k[1])
    idx, hp, wp, oh, ow = _unfold_index(o[0], o[1], k, d, p, s, xp)
    if idx is None or oh * ow != length:
        raise ValueError(f"fold: x has {length} blocks but output_size {o} with kernel {k}, "
                         f"dilation {d}, padding {p}, stride {s} gives "
                         f"{max(oh, 0) * max(ow, 0)}")
    yp = _fold_raw(a, n, c, k, idx, hp, wp, xp)
    y = yp[:, :, p[0]:p[0] + o[0], p[1]:p[1] + o[1]]

    def backward(g, needs):
        gp = xp.pad(g, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1]))) if p != (0, 0) else g
        return (gp.reshape(n, c, hp * wp)[:, :, idx].reshape(n, ckk, length),)

    return record(xp.ascontiguousarray(y), (x,), backward)


def extract_sequences(x, sequence_length: int, sequence_stride: int) -> Tensor:
    """Frames of the last axis: ``(..., N)`` becomes ``(..., num_sequences, sequence_length)``
    with ``num_sequences = 1 + (N - sequence_length) // sequence_stride``
    (``keras.ops.extract_sequences``, as ``tf.signal.frame``).

    Args:
        x: input tensor, at least 1-D.
        sequence_length: frame length.
        sequence_stride: hop between frames.

    Returns:
        A Tensor.

    Example:

    >>> ops.extract_sequences(np.arange(6.0), 3, 2).numpy()
    array([[0., 1., 2.],
           [2., 3., 4.]])
    """
    a = data_of(x, "extract_sequences", "x")
    if a.ndim == 0:
        raise ValueError("extract_sequences: x must be at least 1-D")
    length, stride = int(sequence_length), int(sequence_stride)
    if length < 1 or stride < 1:
        raise ValueError(f"extract_sequences: sequence_length and sequence_stride must be >= 1, "
                         f"got {length} and {stride}")
    xp = backend.of(a).xp
    nseq = max(0, 1 + (a.shape[-1] - length) // stride)
    idx = xp.asarray(np.arange(nseq)[:, None] * stride + np.arange(length)[None, :])
    y = a[..., idx]

    def backward(g, needs):
        out = xp.zeros(a.shape, dtype=g.dtype)
        flat = out.reshape(-1, a.shape[-1])
        gf = g.reshape(flat.shape[0], -1)
        _ufunc_at(xp, "add", flat, (slice(None), idx.reshape(-1)), gf)
        return (out,)

    return record(y, (x,), backward)


# ---- image metrics and complex numbers -----------------------------------------------------------

def psnr(x1, x2, max_val) -> Tensor:
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse(x1, x2))``
    (``keras.ops.psnr``).

    Args:
        x1: first image batch.
        x2: second image batch, same shape.
        max_val: the dynamic range of the images (e.g. 1.0 or 255).

    Returns:
        A scalar Tensor (dB).

    Example:

    >>> float(ops.psnr(np.zeros(4), np.full(4, 0.1), 1.0))
    20.0
    """
    a = _as_tensor(x1, "psnr", "x1")
    b = _as_tensor(x2, "psnr", "x2")
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"psnr: input shapes {tuple(a.shape)} and {tuple(b.shape)} must match")
    mse = mean(square(subtract(a, b)))
    ln10 = float(np.log(10.0))
    mv = float(backend.to_numpy(data_of(max_val, "psnr", "max_val")))
    return subtract(np.float32(20.0 * np.log10(mv)), multiply(10.0 / ln10, log(mse)))


def polar(abs_, angle) -> Tensor:
    """The complex number ``abs_ * (cos(angle) + 1j * sin(angle))`` (``keras.ops.polar``).

    Gradients follow TensorFlow's convention for a complex output and real inputs: with
    upstream gradient ``g``, ``d abs_ = Re(g * conj(exp(1j * angle)))`` and
    ``d angle = Re(g * conj(1j * z))``.

    Args:
        abs_: the magnitude (real tensor).
        angle: the angle in radians (real tensor), broadcast against ``abs_``.

    Returns:
        A complex64 Tensor.

    Example:

    >>> ops.polar(2.0, 0.0).numpy()
    array(2.+0.j, dtype=complex64)
    """
    r = _f32(abs_, "polar", "abs_")
    t = _f32(angle, "polar", "angle")
    r, t = same_backend(r, t)
    xp = backend.of(r).xp
    e = (xp.cos(t) + 1j * xp.sin(t)).astype(np.complex64)
    z = (r * e).astype(np.complex64)

    def backward(g, needs):
        from ._util import unbroadcast
        gr = gt = None
        if needs[0]:
            gr = unbroadcast(xp.real(g * xp.conj(e)).astype(np.float32), r.shape)
        if needs[1]:
            gt = unbroadcast(xp.real(g * xp.conj(1j * z)).astype(np.float32), t.shape)
        return gr, gt

    return record(z, (abs_, angle), backward)
