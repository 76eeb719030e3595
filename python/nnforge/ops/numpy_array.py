"""NumPy-style array functions of ``keras.ops``: products (dot, tensordot, kron, cross ...),
shape manipulation (stacking, splitting, rolling, rotating), diagonals and triangles, creation
(eye, tri, linspace ...), complex parts and the spectral windows. Most are written as index maps
or compositions of differentiable ops, so their gradients follow from those."""
from __future__ import annotations

import builtins as _b
import importlib
from typing import Optional, Sequence

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._dtypes import float_type, kind_of, result_type, strong
from ._npcommon import arr, as_tensor, index_map, positions, xp_of
from ._util import data_of, same_backend, unbroadcast

_mm = importlib.import_module("nnforge.ops.math")  # the package attribute 'math' is the stdlib's
_ar = importlib.import_module("nnforge.ops.array")


def _ax(axis: int, ndim: int, fn: str) -> int:
    if not -ndim <= axis < _b.max(ndim, 1):
        raise ValueError(f"{fn}: axis {axis} is out of bounds for a tensor of rank {ndim}")
    return axis % _b.max(ndim, 1)


def _gather(x, fn, build):
    """Apply the index map ``build(positions)`` (a NumPy/CuPy expression on the positions of
    ``x``'s elements) to ``x``, differentiably."""
    x = as_tensor(x)
    a = data_of(x, fn, "x")
    idx = build(positions(a.shape, xp_of(a)))
    return index_map(x, idx, fn)


# ---- products ---------------------------------------------------------------------------------

def _matmul(x1, x2, a, b):
    xp = xp_of(a)
    y = xp.matmul(a, b)

    def backward(g, needs):
        ga = gb = None
        if needs[0]:
            ga = unbroadcast(xp.matmul(g, xp.swapaxes(b, -1, -2)), a.shape)
        if needs[1]:
            gb = unbroadcast(xp.matmul(xp.swapaxes(a, -1, -2), g), b.shape)
        return ga, gb

    return record(y, (x1, x2), backward)


def tensordot(x1, x2, axes=2) -> Tensor:
    """Tensor contraction over ``axes`` (``keras.ops.tensordot``).

    Args:
        x1: first tensor.
        x2: second tensor.
        axes: an int N (the last N axes of ``x1`` with the first N of ``x2``) or a pair of
            axis lists.

    Returns:
        A Tensor of the promoted dtype.

    Example:

    >>> ops.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    dt = result_type(x1, x2)
    x1c, x2c = _mm.cast(x1, dt), _mm.cast(x2, dt)
    a, b = same_backend(x1c.data, x2c.data)
    if isinstance(axes, (int, np.integer)):
        if axes < 0 or axes > _b.min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={axes} is invalid for shapes {a.shape}, {b.shape}")
        ax_a = list(range(a.ndim - axes, a.ndim))
        ax_b = list(range(axes))
    else:
        ax_a, ax_b = axes
        ax_a = [ax_a] if isinstance(ax_a, (int, np.integer)) else list(ax_a)
        ax_b = [ax_b] if isinstance(ax_b, (int, np.integer)) else list(ax_b)
        ax_a = [_ax(i, a.ndim, "tensordot") for i in ax_a]
        ax_b = [_ax(i, b.ndim, "tensordot") for i in ax_b]
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: shape mismatch between x1 {tuple(a.shape)} axis {i} "
                             f"and x2 {tuple(b.shape)} axis {j}")
    free_a = [i for i in range(a.ndim) if i not in ax_a]
    free_b = [i for i in range(b.ndim) if i not in ax_b]
    k = int(np.prod([a.shape[i] for i in ax_a])) if ax_a else 1
    ta = _mm.reshape(_mm.transpose(x1c, tuple(free_a + ax_a)), (-1, k))
    tb = _mm.reshape(_mm.transpose(x2c, tuple(ax_b + free_b)), (k, -1))
    y = _matmul(ta, tb, ta.data, tb.data)
    return _mm.reshape(y, tuple(a.shape[i] for i in free_a) + tuple(b.shape[i] for i in free_b))


def dot(x1, x2) -> Tensor:
    """Dot product (``keras.ops.dot``): scalars multiply, 1-D vectors give their inner
    product, otherwise a sum over the last axis of ``x1`` and the second-to-last of ``x2``.

    Args:
        x1: first tensor.
        x2: second tensor.

    Returns:
        A Tensor of the promoted dtype.

    Example:

    >>> ops.dot([1.0, 2.0], [3.0, 4.0]).numpy()
    array(11., dtype=float32)
    """
    n1, n2 = len(_mm.shape(x1)) if not isinstance(x1, (int, float)) else 0, \
        len(_mm.shape(x2)) if not isinstance(x2, (int, float)) else 0
    if n1 == 0 or n2 == 0:
        dt = result_type(strong(x1), strong(x2))
        return _mm.multiply(_mm.cast(x1, dt), _mm.cast(x2, dt))
    return tensordot(x1, x2, axes=([-1], [-1 if n2 == 1 else -2]))


def inner(x1, x2) -> Tensor:
    """Inner product over the last axes (``keras.ops.inner``).

    Args:
        x1: first tensor.
        x2: second tensor (same last dimension).

    Returns:
        A Tensor.

    Example:

    >>> ops.inner([1.0, 2.0], [3.0, 4.0]).numpy()
    array(11., dtype=float32)
    """
    if len(_mm.shape(x1)) == 0 or len(_mm.shape(x2)) == 0:
        return dot(x1, x2)
    return tensordot(x1, x2, axes=([-1], [-1]))


def outer(x1, x2) -> Tensor:
    """Outer product of the flattened inputs (``keras.ops.outer``).

    Args:
        x1: first tensor (flattened).
        x2: second tensor (flattened).

    Returns:
        A Tensor of shape ``(x1.size, x2.size)``.

    Example:

    >>> ops.outer([1.0, 2.0], [3.0, 4.0]).numpy()
    array([[3., 4.],
           [6., 8.]], dtype=float32)
    """
    dt = result_type(strong(x1), strong(x2))
    return _mm.multiply(_mm.reshape(_mm.cast(x1, dt), (-1, 1)),
                        _mm.reshape(_mm.cast(x2, dt), (1, -1)))


def vdot(x1, x2) -> Tensor:
    """Dot product of the flattened inputs, conjugating the first (``keras.ops.vdot``).

    Args:
        x1: first tensor (flattened).
        x2: second tensor (flattened, same size).

    Returns:
        A scalar Tensor.

    Example:

    >>> ops.vdot([[1.0, 2.0]], [[3.0, 4.0]]).numpy()
    array(11., dtype=float32)
    """
    return tensordot(ravel(conj(x1)), ravel(x2), axes=1)


def kron(x1, x2) -> Tensor:
    """Kronecker product (``keras.ops.kron``).

    Args:
        x1: first tensor.
        x2: second tensor.

    Returns:
        A Tensor whose blocks are ``x1[i] * x2``.

    Example:

    >>> ops.kron(np.eye(2), [[1.0, 2.0]]).shape
    (2, 4)
    """
    dt = result_type(strong(x1), strong(x2))
    a, b = _mm.cast(x1, dt), _mm.cast(x2, dt)
    nd = _b.max(a.ndim, b.ndim)
    sa = (1,) * (nd - a.ndim) + tuple(a.shape)
    sb = (1,) * (nd - b.ndim) + tuple(b.shape)
    ra = _mm.reshape(a, tuple(v for s in sa for v in (s, 1)))
    rb = _mm.reshape(b, tuple(v for s in sb for v in (1, s)))
    return _mm.reshape(_mm.multiply(ra, rb), tuple(p * q for p, q in zip(sa, sb)))


def cross(x1, x2, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis=None) -> Tensor:
    """Cross product of 2- or 3-vectors (``keras.ops.cross``).

    Args:
        x1: vectors along ``axisa`` (size 2 or 3).
        x2: vectors along ``axisb`` (size 2 or 3).
        axisa: the vector axis of ``x1``.
        axisb: the vector axis of ``x2``.
        axisc: the vector axis of the result.
        axis: if given, overrides ``axisa``, ``axisb`` and ``axisc``.

    Returns:
        A Tensor (3-vectors, or scalars when both inputs are 2-vectors).

    Example:

    >>> ops.cross([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]).numpy()
    array([0., 0., 1.], dtype=float32)
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    dt = result_type(x1, x2)
    a = moveaxis(_mm.cast(x1, dt), axisa, -1)
    b = moveaxis(_mm.cast(x2, dt), axisb, -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: vector dimensions must be 2 or 3, got x1 {tuple(a.shape)} "
                         f"and x2 {tuple(b.shape)}")
    c = lambda t, i: _mm.getitem(t, (Ellipsis, i))  # noqa: E731
    mul, sub = _mm.multiply, _mm.subtract
    if na == 2 and nb == 2:
        return sub(mul(c(a, 0), c(b, 1)), mul(c(a, 1), c(b, 0)))
    a0, a1 = c(a, 0), c(a, 1)
    b0, b1 = c(b, 0), c(b, 1)
    a2 = c(a, 2) if na == 3 else None
    b2 = c(b, 2) if nb == 3 else None
    z = _mm.zeros_like
    a2 = a2 if a2 is not None else z(a0)
    b2 = b2 if b2 is not None else z(b0)
    cx = sub(mul(a1, b2), mul(a2, b1))
    cy = sub(mul(a2, b0), mul(a0, b2))
    cz = sub(mul(a0, b1), mul(a1, b0))
    out = _mm.stack([cx, cy, cz], axis=-1)
    return moveaxis(out, -1, axisc)


def correlate(x1, x2, mode: str = "valid") -> Tensor:
    """Cross-correlation of two 1-D sequences (``keras.ops.correlate``):
    ``c[k] = sum_n x1[n + k] * x2[n]``.

    Args:
        x1: 1-D input.
        x2: 1-D filter.
        mode: ``"valid"``, ``"same"`` or ``"full"``.

    Returns:
        A 1-D float Tensor.

    Example:

    >>> ops.correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], mode="same").numpy()
    array([2. , 3.5, 3. ], dtype=float32)
    """
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    dt = result_type(x1, x2)
    dt = "float64" if dt in ("int64", "float64") else (dt if dt in ("float16", "bfloat16")
                                                      else "float32")
    a, v = _mm.cast(x1, dt), _mm.cast(x2, dt)
    if a.ndim != 1 or v.ndim != 1:
        raise ValueError(f"correlate: inputs must be 1-D, got shapes {tuple(a.shape)} and "
                         f"{tuple(v.shape)}")
    n, m = a.shape[0], v.shape[0]
    swap = m > n
    if swap:
        a, v, n, m = v, a, m, n
    xp = xp_of(a.data)
    # full correlation: c[k] = sum_j pad(a)[k + j] * v[j], k = 0 .. n + m - 2
    k = np.arange(n + m - 1)[:, None] + np.arange(m)[None, :] - (m - 1)
    k = np.where((k >= 0) & (k < n), k, -1)
    windows = index_map(a, xp.asarray(k), "correlate")
    full = _matmul(windows, _mm.reshape(v, (m, 1)), windows.data, v.data.reshape(m, 1))
    full = _mm.reshape(full, (n + m - 1,))
    if swap:
        full = flip_(full)
    if mode == "full":
        return full
    if mode == "valid":
        return _mm.getitem(full, slice(m - 1, n))
    start = (m - 1) - (m - 1) // 2 if swap else m // 2
    return _mm.getitem(full, slice(start, start + n))


def flip_(x):
    return _ar.flip(x, axis=0)


# ---- shape manipulation -----------------------------------------------------------------------

def moveaxis(x, source, destination) -> Tensor:
    """Move axes to new positions (``keras.ops.moveaxis``).

    Args:
        x: input tensor.
        source: axis or axes to move.
        destination: their new positions.

    Returns:
        A Tensor.

    Example:

    >>> ops.moveaxis(np.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    x = as_tensor(x)
    nd = len(_mm.shape(x))
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in "
                         "length")
    src = [_ax(s, nd, "moveaxis") for s in src]
    dst = [_ax(d, nd, "moveaxis") for d in dst]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _mm.transpose(x, tuple(order))


def swapaxes(x, axis1: int, axis2: int) -> Tensor:
    """Swap two axes (``keras.ops.swapaxes``).

    Args:
        x: input tensor.
        axis1: first axis.
        axis2: second axis.

    Returns:
        A Tensor.

    Example:

    >>> ops.swapaxes(np.zeros((2, 3)), 0, 1).shape
    (3, 2)
    """
    x = as_tensor(x)
    nd = len(_mm.shape(x))
    perm = list(range(nd))
    i, j = _ax(axis1, nd, "swapaxes"), _ax(axis2, nd, "swapaxes")
    perm[i], perm[j] = perm[j], perm[i]
    return _mm.transpose(x, tuple(perm))


def ravel(x) -> Tensor:
    """The elements of ``x`` as a 1-D tensor (``keras.ops.ravel``).

    Args:
        x: input tensor.

    Returns:
        A 1-D Tensor.

    Example:

    >>> ops.ravel([[1, 2], [3, 4]]).numpy()
    array([1, 2, 3, 4], dtype=int32)
    """
    x = as_tensor(x)
    return _mm.reshape(x, (-1,))


def copy(x) -> Tensor:
    """A copy of ``x`` (``keras.ops.copy``); gradients pass through.

    Args:
        x: input tensor.

    Returns:
        A Tensor with its own memory.

    Example:

    >>> ops.copy([1.0, 2.0]).numpy()
    array([1., 2.], dtype=float32)
    """
    a = arr(x, "copy")
    return record(a.copy(), (x,), lambda g, n: (g,))


def append(x1, x2, axis=None) -> Tensor:
    """``x2`` appended to ``x1`` along ``axis`` (flattened when None) (``keras.ops.append``).

    Args:
        x1: first tensor.
        x2: tensor to append.
        axis: the axis to join along; None flattens both first.

    Returns:
        A Tensor of the promoted dtype.

    Example:

    >>> ops.append([1, 2], [[3, 4]]).numpy()
    array([1, 2, 3, 4], dtype=int32)
    """
    dt = result_type(strong(x1), strong(x2))
    a, b = _mm.cast(x1, dt), _mm.cast(x2, dt)
    if axis is None:
        return _mm.concatenate([ravel(a), ravel(b)], axis=0)
    return _mm.concatenate([a, b], axis=axis)


def _atleast(x, n, name):
    x = as_tensor(x)
    t = x if isinstance(x, Tensor) else _mm.convert_to_tensor(x)
    nd = t.ndim
    if nd >= n:
        return t
    if n == 2:
        return _mm.reshape(t, (1, -1) if nd == 1 else (1, 1))
    shape = {0: (1, 1, 1), 1: (1, t.shape[0], 1), 2: tuple(t.shape) + (1,)}[nd]
    return _mm.reshape(t, shape)


def _stack_dtype(xs):
    dt = result_type(*xs)
    return [_mm.cast(x, dt) for x in xs]


def hstack(xs: Sequence) -> Tensor:
    """Stack tensors horizontally (along axis 1; axis 0 for 1-D) (``keras.ops.hstack``).

    Args:
        xs: a sequence of tensors.

    Returns:
        A Tensor.

    Example:

    >>> ops.hstack([[1, 2], [3]]).numpy()
    array([1, 2, 3], dtype=int32)
    """
    xs = _stack_dtype(xs)
    return _mm.concatenate(xs, axis=0 if xs[0].ndim <= 1 else 1) if xs[0].ndim else \
        _mm.concatenate([_mm.reshape(x, (1,)) for x in xs], axis=0)


def vstack(xs: Sequence) -> Tensor:
    """Stack tensors vertically: concatenation along axis 0 (``keras.ops.vstack``; as Keras's
    TensorFlow backend, 1-D inputs are joined end to end, not made rows).

    Args:
        xs: a sequence of tensors.

    Returns:
        A Tensor.

    Example:

    >>> ops.vstack([[[1, 2]], [[3, 4]]]).shape
    (2, 2)
    """
    return _mm.concatenate(_stack_dtype(xs), axis=0)


def dstack(xs: Sequence) -> Tensor:
    """Stack tensors along the third axis (``keras.ops.dstack``).

    Args:
        xs: a sequence of tensors.

    Returns:
        A Tensor of rank >= 3.

    Example:

    >>> ops.dstack([[1, 2], [3, 4]]).shape
    (1, 2, 2)
    """
    return _mm.concatenate([_atleast(x, 3, "dstack") for x in _stack_dtype(xs)], axis=2)


def _split_along(x, indices_or_sections, axis, name, min_rank):
    x = as_tensor(x)
    t = x if isinstance(x, Tensor) else _mm.convert_to_tensor(x)
    if t.ndim < min_rank:
        raise ValueError(f"{name}: x must have rank >= {min_rank}, got shape {tuple(t.shape)}")
    return _ar.split(x, indices_or_sections, axis=axis)


def hsplit(x, indices_or_sections) -> list:
    """Split horizontally (axis 1; axis 0 for 1-D) (``keras.ops.hsplit``).

    Args:
        x: input tensor.
        indices_or_sections: number of equal sections, or split indices.

    Returns:
        A list of Tensors.

    Example:

    >>> [p.shape for p in ops.hsplit(np.zeros((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    nd = len(_mm.shape(x))
    return _split_along(x, indices_or_sections, 0 if nd == 1 else 1, "hsplit", 1)


def vsplit(x, indices_or_sections) -> list:
    """Split vertically (axis 0) (``keras.ops.vsplit``).

    Args:
        x: input tensor of rank >= 2.
        indices_or_sections: number of equal sections, or split indices.

    Returns:
        A list of Tensors.

    Example:

    >>> [p.shape for p in ops.vsplit(np.zeros((4, 2)), 2)]
    [(2, 2), (2, 2)]
    """
    return _split_along(x, indices_or_sections, 0, "vsplit", 2)


def dsplit(x, indices_or_sections) -> list:
    """Split along the third axis (``keras.ops.dsplit``).

    Args:
        x: input tensor of rank >= 3.
        indices_or_sections: number of equal sections, or split indices.

    Returns:
        A list of Tensors.

    Example:

    >>> [p.shape for p in ops.dsplit(np.zeros((1, 2, 4)), 2)]
    [(1, 2, 2), (1, 2, 2)]
    """
    return _split_along(x, indices_or_sections, 2, "dsplit", 3)


def fliplr(x) -> Tensor:
    """Reverse the order along axis 1 (``keras.ops.fliplr``).

    Args:
        x: input tensor of rank >= 2.

    Returns:
        A Tensor.

    Example:

    >>> ops.fliplr([[1, 2], [3, 4]]).numpy()
    array([[2, 1],
           [4, 3]], dtype=int32)
    """
    x = as_tensor(x)
    if len(_mm.shape(x)) < 2:
        raise ValueError(f"fliplr: x must be at least 2-D, got shape {_mm.shape(x)}")
    return _ar.flip(x, axis=1)


def flipud(x) -> Tensor:
    """Reverse the order along axis 0 (``keras.ops.flipud``).

    Args:
        x: input tensor of rank >= 1.

    Returns:
        A Tensor.

    Example:

    >>> ops.flipud([1, 2, 3]).numpy()
    array([3, 2, 1], dtype=int32)
    """
    x = as_tensor(x)
    if len(_mm.shape(x)) < 1:
        raise ValueError("flipud: x must be at least 1-D")
    return _ar.flip(x, axis=0)


def roll(x, shift, axis=None) -> Tensor:
    """Roll elements along ``axis`` (flattened when None) (``keras.ops.roll``).

    Args:
        x: input tensor.
        shift: number of places (int or tuple, one per axis).
        axis: axis or axes to roll along; None rolls the flattened tensor.

    Returns:
        A Tensor of ``x``'s shape.

    Example:

    >>> ops.roll([1, 2, 3, 4], 1).numpy()
    array([4, 1, 2, 3], dtype=int32)
    """
    return _gather(x, "roll", lambda p: xp_of(p).roll(p, shift, axis=axis))


def rot90(array, k: int = 1, axes=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (``keras.ops.rot90``).

    Args:
        array: input tensor of rank >= 2.
        k: number of quarter turns (counter-clockwise).
        axes: the two axes of the rotation plane.

    Returns:
        A Tensor.

    Example:

    >>> ops.rot90([[1, 2], [3, 4]]).numpy()
    array([[2, 4],
           [1, 3]], dtype=int32)
    """
    array = as_tensor(array)
    nd = len(_mm.shape(array))
    if nd < 2:
        raise ValueError(f"rot90: array must be at least 2-D, got rank {nd}")
    if len(axes) != 2 or _ax(axes[0], nd, "rot90") == _ax(axes[1], nd, "rot90"):
        raise ValueError(f"rot90: axes must be two different axes, got {axes}")
    return _gather(array, "rot90", lambda p: xp_of(p).rot90(p, k, axes=tuple(axes)))


def diagonal(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Diagonals of ``x`` in the plane of ``axis1``/``axis2`` (``keras.ops.diagonal``).

    Args:
        x: input tensor of rank >= 2.
        offset: diagonal offset (positive: above the main diagonal).
        axis1: first axis of the plane.
        axis2: second axis of the plane.

    Returns:
        A Tensor whose last axis holds the diagonals.

    Example:

    >>> ops.diagonal([[1, 2], [3, 4]]).numpy()
    array([1, 4], dtype=int32)
    """
    if len(_mm.shape(x)) < 2:
        raise ValueError(f"diagonal: x must be at least 2-D, got shape {_mm.shape(x)}")
    return _gather(x, "diagonal", lambda p: xp_of(p).diagonal(p, offset, axis1, axis2).copy())


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """Sum along diagonals (``keras.ops.trace``).

    Args:
        x: input tensor of rank >= 2.
        offset: diagonal offset.
        axis1: first axis of the plane.
        axis2: second axis of the plane.

    Returns:
        A Tensor (bool/int8/int16 sum as int32).

    Example:

    >>> ops.trace([[1, 2], [3, 4]]).numpy()
    array(5, dtype=int32)
    """
    d = diagonal(x, offset, axis1, axis2)
    dt = {"bool": "int32", "int8": "int32", "int16": "int32", "uint8": "uint32",
          "uint16": "uint32"}.get(d.dtype, d.dtype)
    y = _mm.sum(_mm.cast(d, dt) if dt != d.dtype else d, axis=-1)
    return y if y.dtype == dt else _mm.cast(y, dt)


def diag(x, k: int = 0) -> Tensor:
    """Extract a diagonal (2-D input) or build a diagonal matrix (1-D input) (``keras.ops.diag``).

    Args:
        x: 1-D or 2-D tensor.
        k: diagonal offset.

    Returns:
        A Tensor.

    Example:

    >>> ops.diag([1, 2]).numpy()
    array([[1, 0],
           [0, 2]], dtype=int32)
    """
    nd = len(_mm.shape(x))
    if nd == 2:
        return diagonal(x, k)
    if nd != 1:
        raise ValueError(f"diag: x must be 1-D or 2-D, got shape {_mm.shape(x)}")
    n = _mm.shape(x)[0]
    m = n + _b.abs(k)

    def build(p):
        xp = xp_of(p)
        out = xp.full((m, m), -1, dtype=np.int64)
        i = xp.arange(n)
        r, c = (i, i + k) if k >= 0 else (i - k, i)
        out[r, c] = p
        return out

    return _gather(x, "diag", build)


def diagflat(x, k: int = 0) -> Tensor:
    """A 2-D tensor with the flattened ``x`` on its ``k``-th diagonal (``keras.ops.diagflat``).

    Args:
        x: input tensor (flattened).
        k: diagonal offset.

    Returns:
        A 2-D Tensor.

    Example:

    >>> ops.diagflat([[1, 2]]).numpy()
    array([[1, 0],
           [0, 2]], dtype=int32)
    """
    return diag(ravel(x), k)


def _band(x, k, name, lower):
    nd = len(_mm.shape(x))
    if nd < 2:
        raise ValueError(f"{name}: x must be at least 2-D, got shape {_mm.shape(x)}")

    def build(p):
        xp = xp_of(p)
        r = xp.arange(p.shape[-2])[:, None]
        c = xp.arange(p.shape[-1])[None, :]
        keep = (c - r <= k) if lower else (c - r >= k)
        return xp.where(keep, p, -1)

    return _gather(x, name, build)


def tril(x, k: int = 0) -> Tensor:
    """The lower triangle of the last two axes; zero above the ``k``-th diagonal
    (``keras.ops.tril``).

    Args:
        x: input tensor of rank >= 2.
        k: diagonal offset.

    Returns:
        A Tensor.

    Example:

    >>> ops.tril([[1, 2], [3, 4]]).numpy()
    array([[1, 0],
           [3, 4]], dtype=int32)
    """
    return _band(x, k, "tril", True)


def triu(x, k: int = 0) -> Tensor:
    """The upper triangle of the last two axes; zero below the ``k``-th diagonal
    (``keras.ops.triu``).

    Args:
        x: input tensor of rank >= 2.
        k: diagonal offset.

    Returns:
        A Tensor.

    Example:

    >>> ops.triu([[1, 2], [3, 4]]).numpy()
    array([[1, 2],
           [0, 4]], dtype=int32)
    """
    return _band(x, k, "triu", False)


def diff(a, n: int = 1, axis: int = -1) -> Tensor:
    """``n``-th discrete difference along ``axis`` (``keras.ops.diff``).

    Args:
        a: input tensor (rank >= 1).
        n: number of times to difference.
        axis: the axis.

    Returns:
        A Tensor, ``n`` shorter along ``axis`` (bools give ``!=``).

    Example:

    >>> ops.diff([1, 4, 9, 16]).numpy()
    array([3, 5, 7], dtype=int32)
    """
    a = as_tensor(a)
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    t = a if isinstance(a, Tensor) else _mm.convert_to_tensor(a)
    if n == 0:
        return t
    if t.ndim == 0:
        raise ValueError("diff: input must be at least 1-D")
    ax = _ax(axis, t.ndim, "diff")
    for _ in range(n):
        m = t.shape[ax]
        s1 = tuple(slice(1, None) if i == ax else slice(None) for i in range(t.ndim))
        s2 = tuple(slice(None, m - 1) if i == ax else slice(None) for i in range(t.ndim))
        if t.dtype == "bool":
            t = _mm.not_equal(_mm.getitem(t, s1), _mm.getitem(t, s2))
        else:
            t = _mm.subtract(_mm.getitem(t, s1), _mm.getitem(t, s2))
    return t


# ---- indices ----------------------------------------------------------------------------------

def nonzero(x) -> tuple:
    """Indices of the nonzero elements, one int32 tensor per axis (``keras.ops.nonzero``).

    Args:
        x: input tensor.

    Returns:
        A tuple of 1-D int32 Tensors.

    Example:

    >>> [t.numpy() for t in ops.nonzero([[0, 1], [2, 0]])]
    [array([0, 1], dtype=int32), array([1, 0], dtype=int32)]
    """
    a = arr(x, "nonzero")
    return tuple(Tensor(i.astype(np.int32)) for i in xp_of(a).nonzero(a))


def unravel_index(indices, shape) -> tuple:
    """Flat indices to coordinate tuples in an array of ``shape`` (``keras.ops.unravel_index``).

    Args:
        indices: integer flat indices.
        shape: the array shape.

    Returns:
        A tuple of Tensors (one per dimension), of ``indices``'s dtype.

    Example:

    >>> [t.numpy() for t in ops.unravel_index([5], (2, 3))]
    [array([1], dtype=int32), array([2], dtype=int32)]
    """
    a = arr(indices, "unravel_index", "indices")
    if any(s is None for s in shape):
        raise ValueError(f"unravel_index: shape cannot contain None, got {shape}")
    xp = xp_of(a)
    out = []
    rem = a
    for dim in reversed(tuple(shape)):
        out.append((rem % dim).astype(a.dtype))
        rem = rem // dim
    return tuple(Tensor(xp.asarray(o)) for o in reversed(out))


def argpartition(x, kth: int, axis: int = -1) -> Tensor:
    """Indices that partition ``x`` around its ``kth`` smallest element along ``axis``
    (``keras.ops.argpartition``): that element lands at position ``kth``, smaller ones before.

    Args:
        x: input tensor.
        kth: the element index to partition by.
        axis: the axis; None flattens first.

    Returns:
        An int32 Tensor of indices.

    Example:

    >>> idx = ops.argpartition([3, 1, 2], 1)
    >>> int(idx.numpy()[1])
    2
    """
    a = arr(x, "argpartition")
    xp = xp_of(a)
    if axis is None:
        a, axis = a.reshape(-1), 0
    n = a.shape[axis]
    if not -n <= kth < n:
        raise ValueError(f"argpartition: kth={kth} is out of bounds for axis of size {n}")
    return Tensor(xp.argpartition(a, kth, axis=axis).astype(np.int32))


# ---- creation ---------------------------------------------------------------------------------

def _fdt(dtype):
    return np.dtype(dtype).name if dtype is not None else "float32"


def empty(shape, dtype=None) -> Tensor:
    """A new tensor of ``shape`` (zero-filled, as Keras's TensorFlow backend) (``keras.ops.empty``).

    Args:
        shape: the shape.
        dtype: the dtype (default float32).

    Returns:
        A Tensor.

    Example:

    >>> ops.empty((2,)).shape
    (2,)
    """
    return Tensor(backend.current().xp.zeros(tuple(np.atleast_1d(shape)) if not
                                             isinstance(shape, tuple) else shape, _fdt(dtype)))


def empty_like(x, dtype=None) -> Tensor:
    """A new tensor with the shape (and dtype) of ``x`` (zero-filled) (``keras.ops.empty_like``).

    Args:
        x: the template tensor.
        dtype: optional dtype (default ``x``'s).

    Returns:
        A Tensor.

    Example:

    >>> ops.empty_like(np.ones((2, 3))).shape
    (2, 3)
    """
    a = arr(x, "empty_like")
    return Tensor(xp_of(a).zeros(a.shape, dtype or a.dtype))


def full_like(x, fill_value, dtype=None) -> Tensor:
    """A tensor of ``x``'s shape filled with ``fill_value`` (``keras.ops.full_like``).

    Args:
        x: the template tensor.
        fill_value: the fill value.
        dtype: optional dtype (default ``x``'s).

    Returns:
        A Tensor.

    Example:

    >>> ops.full_like(np.zeros((2,), 'int32'), 7).numpy()
    array([7, 7], dtype=int32)
    """
    a = arr(x, "full_like")
    xp = xp_of(a)
    fv = data_of(fill_value, "full_like", "fill_value")
    return Tensor(xp.broadcast_to(xp.asarray(fv), a.shape).astype(dtype or a.dtype))


def eye(N: int, M: Optional[int] = None, k: int = 0, dtype=None) -> Tensor:
    """A 2-D tensor with ones on the ``k``-th diagonal (``keras.ops.eye``).

    Args:
        N: number of rows.
        M: number of columns (default ``N``).
        k: diagonal offset.
        dtype: the dtype (default float32).

    Returns:
        A Tensor of shape (N, M).

    Example:

    >>> ops.eye(2).numpy()
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    return Tensor(backend.current().xp.eye(int(N), None if M is None else int(M), int(k),
                                           dtype=_fdt(dtype)))


def identity(n: int, dtype=None) -> Tensor:
    """The ``n`` x ``n`` identity matrix (``keras.ops.identity``).

    Args:
        n: the size.
        dtype: the dtype (default float32).

    Returns:
        A Tensor.

    Example:

    >>> ops.identity(2).numpy()
    array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    return eye(n, dtype=dtype)


def tri(N: int, M: Optional[int] = None, k: int = 0, dtype=None) -> Tensor:
    """Ones at and below the ``k``-th diagonal, zeros above (``keras.ops.tri``).

    Args:
        N: number of rows.
        M: number of columns (default ``N``).
        k: diagonal offset.
        dtype: the dtype (default float32).

    Returns:
        A Tensor of shape (N, M).

    Example:

    >>> ops.tri(2).numpy()
    array([[1., 0.],
           [1., 1.]], dtype=float32)
    """
    return Tensor(backend.current().xp.tri(int(N), None if M is None else int(M), int(k),
                                           dtype=_fdt(dtype)))


def _space_dtype(start, stop, dtype):
    if dtype is not None:
        return np.dtype(dtype).name
    return result_type(start, stop, float)


def linspace(start, stop, num: int = 50, endpoint: bool = True, retstep: bool = False,
             dtype=None, axis: int = 0):
    """``num`` evenly spaced numbers from ``start`` to ``stop`` (``keras.ops.linspace``).

    Args:
        start: the first value (scalar or tensor).
        stop: the last value (or the end when ``endpoint`` is False).
        num: number of samples.
        endpoint: whether ``stop`` is included.
        retstep: also return the spacing.
        dtype: the dtype (default: float32 for Python numbers).
        axis: the axis of the samples when ``start``/``stop`` are tensors.

    Returns:
        A Tensor (and the step when ``retstep``).

    Example:

    >>> ops.linspace(0.0, 1.0, 3).numpy()
    array([0. , 0.5, 1. ], dtype=float32)
    """
    if num < 0:
        raise ValueError(f"linspace: num must be non-negative, got {num}")
    dt = _space_dtype(start, stop, dtype)
    s = data_of(start, "linspace", "start")
    e = data_of(stop, "linspace", "stop")
    xp = _home(s, e)
    y, step = np.linspace(backend.to_numpy(s).astype(np.float64),
                          backend.to_numpy(e).astype(np.float64), num, endpoint=endpoint,
                          retstep=True, axis=axis)
    y = xp.asarray(np.asarray(y).astype(dt))
    if retstep:
        return Tensor(y), Tensor(xp.asarray(np.asarray(step).astype(dt)))
    return Tensor(y)


def _home(*arrays):
    """The array module for a creation op: the GPU's when an argument lives there, else the
    current device's."""
    for a in arrays:
        if backend.is_array(a) and backend.of(a) is not backend.cpu:
            return backend.of(a).xp
    return backend.current().xp


def logspace(start, stop, num: int = 50, endpoint: bool = True, base=10, dtype=None,
             axis: int = 0) -> Tensor:
    """Numbers evenly spaced on a log scale: ``base ** linspace(start, stop)``
    (``keras.ops.logspace``).

    Args:
        start: exponent of the first value.
        stop: exponent of the last value.
        num: number of samples.
        endpoint: whether ``base ** stop`` is included.
        base: the base.
        dtype: the dtype.
        axis: the axis of the samples.

    Returns:
        A Tensor.

    Example:

    >>> ops.logspace(0.0, 2.0, 3).numpy()
    array([  1.,  10., 100.], dtype=float32)
    """
    lin = linspace(start, stop, num, endpoint, dtype=dtype, axis=axis).data
    xp = xp_of(lin)
    return Tensor(xp.power(xp.asarray(base, np.float64), lin.astype(np.float64)).astype(lin.dtype))


def geomspace(start, stop, num: int = 50, endpoint: bool = True, dtype=None,
              axis: int = 0) -> Tensor:
    """Numbers evenly spaced on a log scale between ``start`` and ``stop`` themselves
    (``keras.ops.geomspace``).

    Args:
        start: the first value (nonzero).
        stop: the last value (same sign as ``start``).
        num: number of samples.
        endpoint: whether ``stop`` is included.
        dtype: the dtype (default float32).
        axis: the axis of the samples.

    Returns:
        A Tensor.

    Example:

    >>> ops.geomspace(1.0, 100.0, 3).numpy()
    array([  1.,  10., 100.], dtype=float32)
    """
    s = data_of(start, "geomspace", "start")
    e = data_of(stop, "geomspace", "stop")
    y = np.geomspace(backend.to_numpy(s).astype(np.float64),
                     backend.to_numpy(e).astype(np.float64), num, endpoint=endpoint, axis=axis)
    return Tensor(_home(s, e).asarray(np.asarray(y).astype(_fdt(dtype))))


def vander(x, N: Optional[int] = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix of 1-D ``x``: columns are powers of ``x`` (``keras.ops.vander``).

    Args:
        x: 1-D input.
        N: number of columns (default ``len(x)``).
        increasing: powers increase left to right (default: decrease).

    Returns:
        A Tensor of ``x``'s dtype, shape (len(x), N).

    Example:

    >>> ops.vander([1, 2, 3], 3).numpy()
    array([[1, 1, 1],
           [4, 2, 1],
           [9, 3, 1]], dtype=int32)
    """
    x = as_tensor(x)
    t = x if isinstance(x, Tensor) else _mm.convert_to_tensor(x)
    if t.ndim != 1:
        raise ValueError(f"vander: x must be 1-D, got shape {tuple(t.shape)}")
    n = t.shape[0] if N is None else int(N)
    if n < 0:
        raise ValueError(f"vander: N must be non-negative, got {N}")
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    dt = t.dtype
    cdt = result_type(dt, "float32")
    xe = _mm.expand_dims(_mm.cast(t, cdt), -1)
    out = _mm.power(xe, xp_of(t.data).asarray(powers.astype(cdt)))
    return _mm.cast(out, dt) if dt != cdt else out


def ndim(x) -> int:
    """The rank of ``x`` (``keras.ops.ndim``).

    Args:
        x: input tensor.

    Returns:
        An int.

    Example:

    >>> ops.ndim(np.zeros((2, 3)))
    2
    """
    shp = getattr(x, "shape", None)  # a KerasTensor's rank is known too
    return len(shp) if isinstance(shp, tuple) else len(_mm.shape(x))


def size(x) -> int:
    """The number of elements of ``x`` (``keras.ops.size``).

    Args:
        x: input tensor.

    Returns:
        A scalar int32 Tensor.

    Example:

    >>> int(ops.size(np.zeros((2, 3))))
    6
    """
    return Tensor(np.asarray(int(np.prod(_mm.shape(x), dtype=np.int64)), np.int32))


def view(x, dtype=None) -> Tensor:
    """The bytes of ``x`` reinterpreted as ``dtype`` (``keras.ops.view``); the last axis
    scales by the ratio of the item sizes.

    Args:
        x: input tensor (C-contiguous data).
        dtype: the new dtype (None: unchanged).

    Returns:
        A Tensor.

    Example:

    >>> ops.view(np.array([1.0], 'float32'), 'int32').numpy()
    array([1065353216], dtype=int32)
    """
    a = arr(x, "view")
    if dtype is None:
        return Tensor(a)
    xp = xp_of(a)
    a = xp.ascontiguousarray(a)
    new = np.dtype(dtype)
    if a.ndim == 0 and new.itemsize != a.dtype.itemsize:
        raise ValueError(f"view: cannot change the item size of a 0-d tensor ({a.dtype} -> "
                         f"{new})")
    return Tensor(a.view(new))


# ---- complex parts ----------------------------------------------------------------------------

def real(x) -> Tensor:
    """The real part (``keras.ops.real``).

    Args:
        x: input tensor.

    Returns:
        A Tensor (real inputs come back unchanged).

    Example:

    >>> ops.real(np.array([1 + 2j])).numpy()
    array([1.])
    """
    a = arr(x, "real")
    if a.dtype.kind != "c":
        return record(a, (x,), lambda g, n: (g,))
    return Tensor(xp_of(a).real(a).copy())


def imag(x) -> Tensor:
    """The imaginary part (``keras.ops.imag``).

    Args:
        x: input tensor.

    Returns:
        A Tensor (zeros for real inputs).

    Example:

    >>> ops.imag(np.array([1 + 2j])).numpy()
    array([2.])
    """
    a = arr(x, "imag")
    xp = xp_of(a)
    if a.dtype.kind != "c":
        return Tensor(xp.zeros_like(a))
    return Tensor(xp.imag(a).copy())


def conj(x) -> Tensor:
    """The complex conjugate (``keras.ops.conj``).

    Args:
        x: input tensor.

    Returns:
        A Tensor (real inputs come back unchanged).

    Example:

    >>> ops.conj(np.array([1 + 2j])).numpy()
    array([1.-2.j])
    """
    a = arr(x, "conj")
    if a.dtype.kind != "c":
        return record(a, (x,), lambda g, n: (g,))
    return Tensor(xp_of(a).conj(a))


def conjugate(x) -> Tensor:
    """The complex conjugate (``keras.ops.conjugate``, same as ``conj``).

    Args:
        x: input tensor.

    Returns:
        A Tensor.

    Example:

    >>> ops.conjugate(np.array([1 - 1j])).numpy()
    array([1.+1.j])
    """
    return conj(x)


def angle(x) -> Tensor:
    """The argument (phase angle) of each element (``keras.ops.angle``).

    Args:
        x: input tensor (real or complex).

    Returns:
        A float Tensor (0 or pi for real inputs).

    Example:

    >>> ops.angle(np.array([1j])).numpy()
    array([1.57079633])
    """
    k = kind_of(x)[0]
    a = arr(x, "angle")
    xp = xp_of(a)
    if a.dtype.kind == "c":
        return Tensor(xp.angle(a))
    dt = "float32" if k == "int64" else float_type(x)
    return Tensor(xp.angle(a.astype(dt)).astype(dt))


# ---- windows ----------------------------------------------------------------------------------

def _window(name, fn, x):
    m = int(data_of(x, name, "x"))
    xp = backend.current().xp
    return Tensor(xp.asarray(fn(m)).astype(np.float32))


def bartlett(x) -> Tensor:
    """The Bartlett (triangular) window of ``x`` points (``keras.ops.bartlett``).

    Args:
        x: number of points (int).

    Returns:
        A 1-D float32 Tensor.

    Example:

    >>> ops.bartlett(5).numpy()
    array([0. , 0.5, 1. , 0.5, 0. ], dtype=float32)
    """
    return _window("bartlett", np.bartlett, x)


def blackman(x) -> Tensor:
    """The Blackman window of ``x`` points (``keras.ops.blackman``).

    Args:
        x: number of points (int).

    Returns:
        A 1-D float32 Tensor.

    Example:

    >>> ops.blackman(3).numpy().round(3)
    array([-0.,  1., -0.], dtype=float32)
    """
    return _window("blackman", np.blackman, x)


def hamming(x) -> Tensor:
    """The Hamming window of ``x`` points (``keras.ops.hamming``).

    Args:
        x: number of points (int).

    Returns:
        A 1-D float32 Tensor.

    Example:

    >>> ops.hamming(3).numpy()
    array([0.08, 1.  , 0.08], dtype=float32)
    """
    return _window("hamming", np.hamming, x)


def hanning(x) -> Tensor:
    """The Hann window of ``x`` points (``keras.ops.hanning``).

    Args:
        x: number of points (int).

    Returns:
        A 1-D float32 Tensor.

    Example:

    >>> ops.hanning(3).numpy()
    array([0., 1., 0.], dtype=float32)
    """
    return _window("hanning", np.hanning, x)


def kaiser(x, beta) -> Tensor:
    """The Kaiser window of ``x`` points with shape parameter ``beta`` (``keras.ops.kaiser``).

    Args:
        x: number of points (int).
        beta: the shape parameter.

    Returns:
        A 1-D float32 Tensor.

    Example:

    >>> ops.kaiser(3, 0.0).numpy()
    array([1., 1., 1.], dtype=float32)
    """
    return _window("kaiser", lambda m: np.kaiser(m, float(beta)), x)


__all__ = ["angle", "append", "argpartition", "bartlett", "blackman", "conj", "conjugate", "copy",
           "correlate", "cross", "diag", "diagflat", "diagonal", "diff", "dot", "dsplit",
           "dstack", "empty", "empty_like", "eye", "fliplr", "flipud", "full_like", "geomspace",
           "hamming", "hanning", "hsplit", "hstack", "identity", "imag", "inner", "kaiser",
           "kron", "linspace", "logspace", "moveaxis", "ndim", "nonzero", "outer", "ravel",
           "real", "roll", "rot90", "size", "swapaxes", "tensordot", "trace", "tri", "tril",
           "triu", "unravel_index", "vander", "vdot", "view", "vsplit", "vstack"]
