"""Array manipulation, indexing, sorting and scans with Keras's names (``split``, ``unstack``,
``take``, ``take_along_axis``, ``broadcast_to``, ``cumsum``, ``top_k``, ...), differentiable where
the function is."""
from __future__ import annotations

from typing import List, Optional, Sequence, Union

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from ._util import data_of, unbroadcast


def _xp(a):
    return backend.of(a).xp


def _index_array(indices, like, fn: str):
    idx = data_of(indices, fn, "indices")
    if idx.dtype.kind not in "iu":
        if idx.dtype.kind == "f" and np.all(backend.to_numpy(idx) == np.round(
                backend.to_numpy(idx))):
            idx = idx.astype(np.int64)
        else:
            raise TypeError(f"{fn}: indices must be integers, got dtype {idx.dtype}")
    if backend.of(idx) is not backend.of(like):
        idx = backend.of(like).asarray(backend.to_numpy(idx))
    return idx


def _slices(x, a, ax, keys):
    """The pieces ``a[..., key]`` (``key`` indexing axis ``ax``) of ``x``'s array ``a``, each
    recorded with a gradient that scatters back into a zero tensor of ``a``'s shape."""
    out = []
    for key in keys:
        idx = (slice(None),) * ax + (key,)

        def backward(g, needs, idx=idx):
            full = _xp(g).zeros(a.shape, dtype=g.dtype)
            full[idx] = g
            return (full,)

        out.append(record(a[idx], (x,), backward))
    return out


def split(x, indices_or_sections: Union[int, Sequence[int]], axis: int = 0) -> List[Tensor]:
    """Split ``x`` into sub-tensors along ``axis`` (``keras.ops.split``).

    Args:
        x: the tensor.
        indices_or_sections: a number of equal parts, or the indices where to split.
        axis: the axis to split along.

    Returns:
        A list of Tensors.

    Example:

    >>> a, b = nnforge.ops.split(np.arange(6.0).reshape(2, 3), [1], axis=1)
    >>> b.shape
    (2, 2)
    """
    a = data_of(x, "split", "x")
    ax = axis % a.ndim
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n < 1 or a.shape[ax] % n:
            raise ValueError(f"split: cannot split axis {axis} of size {a.shape[ax]} into "
                             f"{n} equal parts")
        size = a.shape[ax] // n
        bounds = [size * i for i in range(1, n)]
    else:
        bounds = [int(i) for i in indices_or_sections]
    edges = [0] + bounds + [a.shape[ax]]
    return _slices(x, a, ax, [slice(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])])


def array_split(x, indices_or_sections, axis: int = 0) -> List[Tensor]:
    """``split`` that allows parts of unequal size (``keras.ops.array_split``).

    Example:

    >>> [t.shape for t in nnforge.ops.array_split(np.arange(5.0), 2)]
    [(3,), (2,)]
    """
    a = data_of(x, "array_split", "x")
    if isinstance(indices_or_sections, (int, np.integer)):
        n, size = int(indices_or_sections), a.shape[axis % a.ndim]
        per, extra = divmod(size, n)
        bounds, at = [], 0
        for i in range(n - 1):
            at += per + (1 if i < extra else 0)
            bounds.append(at)
        return split(x, bounds, axis)
    return split(x, indices_or_sections, axis)


def unstack(x, num: Optional[int] = None, axis: int = 0) -> List[Tensor]:
    """The slices of ``x`` along ``axis`` (``keras.ops.unstack``).

    Args:
        x: the tensor.
        num: the number of slices (checked when given).
        axis: the axis to unstack.

    Returns:
        A list of Tensors, each of rank ``x.ndim - 1``.

    Example:

    >>> len(nnforge.ops.unstack(np.zeros((3, 2))))
    3
    """
    a = data_of(x, "unstack", "x")
    ax = axis % a.ndim
    if num is not None and num != a.shape[ax]:
        raise ValueError(f"unstack: num={num} but axis {axis} has size {a.shape[ax]}")
    return _slices(x, a, ax, range(a.shape[ax]))


def take(x, indices, axis: Optional[int] = None) -> Tensor:
    """Elements of ``x`` at ``indices`` along ``axis`` (``keras.ops.take``); with axis None,
    ``x`` is flattened first. Negative indices count from the end.

    Args:
        x: the tensor.
        indices: integer indices of any shape.
        axis: the axis to take along (None: the flattened tensor).

    Returns:
        A Tensor: ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``.

    Example:

    >>> nnforge.ops.take(np.array([[1., 2.], [3., 4.]]), [1, 0], axis=0)
    """
    a = data_of(x, "take", "x")
    idx = _index_array(indices, a, "take")
    src = a.reshape(-1) if axis is None else a
    ax = 0 if axis is None else axis % a.ndim
    y = _xp(a).take(src, idx, axis=ax)

    def backward(g, needs):
        xp = _xp(g)
        full = xp.zeros(src.shape, dtype=g.dtype)
        moved = xp.moveaxis(full, ax, 0)
        gm = g.reshape(src.shape[:ax] + (-1,) + src.shape[ax + 1:]) if idx.ndim != 1 else g
        gm = xp.moveaxis(gm, ax, 0)
        flat_idx = idx.reshape(-1) % src.shape[ax]
        xp.add.at(moved, flat_idx, gm)
        return (full.reshape(a.shape),)

    return record(y, (x,), backward)


def take_along_axis(x, indices, axis: Optional[int] = None) -> Tensor:
    """Values of ``x`` at ``indices`` matched along ``axis`` (``keras.ops.take_along_axis``).

    Args:
        x: the tensor.
        indices: integer indices, broadcastable against ``x`` except along ``axis``.
        axis: the axis (None: the flattened tensor).

    Returns:
        A Tensor shaped like the broadcast of ``indices``.

    Example:

    >>> nnforge.ops.take_along_axis(np.array([[10., 30., 20.]]), np.array([[1]]), axis=1)
    """
    a = data_of(x, "take_along_axis", "x")
    idx = _index_array(indices, a, "take_along_axis")
    src = a.reshape(-1) if axis is None else a
    ax = 0 if axis is None else axis % a.ndim
    xp = _xp(a)
    y = xp.take_along_axis(src, idx, axis=ax)

    def backward(g, needs):
        full = xp.zeros(src.shape, dtype=g.dtype)
        # broadcast the indices and the gradient to one shape, then scatter-add
        shape = list(np.broadcast_shapes(tuple(idx.shape), tuple(
            1 if i == ax else d for i, d in enumerate(src.shape))))
        bidx = xp.broadcast_to(idx, shape) % src.shape[ax]
        grids = list(xp.indices(shape, sparse=True))
        grids[ax] = bidx
        xp.add.at(full, tuple(grids), xp.broadcast_to(g, shape))
        return (full.reshape(a.shape),)

    return record(y, (x,), backward)


def broadcast_to(x, shape) -> Tensor:
    """``x`` broadcast to ``shape`` (``keras.ops.broadcast_to``).

    Example:

    >>> nnforge.ops.broadcast_to(np.array([1., 2.]), (3, 2)).shape
    (3, 2)
    """
    a = data_of(x, "broadcast_to", "x")
    y = _xp(a).ascontiguousarray(_xp(a).broadcast_to(a, tuple(shape)))
    return record(y, (x,), lambda g, n: (unbroadcast(g, a.shape),))


def _reverse_cumsum(xp, g, ax):
    """Sums of ``g`` from each position to the end of axis ``ax``."""
    return xp.flip(xp.cumsum(xp.flip(g, axis=ax), axis=ax), axis=ax)


def _cumulative(name, x, axis, dtype, grad):
    """``xp.cumsum`` or ``xp.cumprod`` (``name``) of ``x`` along ``axis`` (None: the flattened
    tensor); ``grad(xp, g, src, y, ax)`` is the gradient with respect to the scanned ``src``."""
    a = data_of(x, name, "x")
    src = a.reshape(-1) if axis is None else a
    ax = 0 if axis is None else axis % a.ndim
    xp = _xp(a)
    y = getattr(xp, name)(src, axis=ax, dtype=None if dtype is None else np.dtype(dtype))
    return record(y, (x,), lambda g, n: (grad(xp, g, src, y, ax).reshape(a.shape),))


def cumsum(x, axis: Optional[int] = None, dtype=None) -> Tensor:
    """Cumulative sum along ``axis`` (``keras.ops.cumsum``; axis None: the flattened tensor).

    Example:

    >>> nnforge.ops.cumsum(np.array([1., 2., 3.]))
    """
    return _cumulative("cumsum", x, axis, dtype,
                       lambda xp, g, src, y, ax: _reverse_cumsum(xp, g, ax))


def cumprod(x, axis: Optional[int] = None, dtype=None) -> Tensor:
    """Cumulative product along ``axis`` (``keras.ops.cumprod``); differentiable where no
    entry is zero.

    Example:

    >>> nnforge.ops.cumprod(np.array([1., 2., 3.]))
    """
    return _cumulative("cumprod", x, axis, dtype,
                       lambda xp, g, src, y, ax: _reverse_cumsum(xp, g * y, ax) / src)


def flip(x, axis=None) -> Tensor:
    """``x`` reversed along ``axis`` (all axes when None) (``keras.ops.flip``).

    Example:

    >>> nnforge.ops.flip(np.array([1., 2., 3.]))
    """
    a = data_of(x, "flip", "x")
    y = _xp(a).ascontiguousarray(_xp(a).flip(a, axis=axis))
    return record(y, (x,), lambda g, n: (_xp(g).flip(g, axis=axis),))


def sort(x, axis: int = -1) -> Tensor:
    """``x`` sorted in ascending order along ``axis`` (``keras.ops.sort``); the gradient flows
    back to where each value came from.

    Example:

    >>> nnforge.ops.sort(np.array([3., 1., 2.]))
    """
    a = data_of(x, "sort", "x")
    order = _xp(a).argsort(a, axis=axis, kind="stable")
    return take_along_axis(x, order, axis=axis)


def argsort(x, axis: int = -1) -> Tensor:
    """Indices that sort ``x`` along ``axis`` (``keras.ops.argsort``).

    Example:

    >>> nnforge.ops.argsort(np.array([3., 1., 2.]))
    """
    a = data_of(x, "argsort", "x")
    return Tensor(_xp(a).argsort(a, axis=axis, kind="stable"))


def top_k(x, k: int, sorted: bool = True):  # noqa: A002 - Keras's argument name
    """The ``k`` largest values along the last axis and their indices (``keras.ops.top_k``).

    Args:
        x: the tensor.
        k: how many values to keep.
        sorted: return them in descending order (always done here).

    Returns:
        ``(values, indices)``: Tensors of shape ``x.shape[:-1] + (k,)``; values are
        differentiable.

    Example:

    >>> values, indices = nnforge.ops.top_k(np.array([1., 5., 3.]), 2)
    """
    a = data_of(x, "top_k", "x")
    if not 1 <= int(k) <= a.shape[-1]:
        raise ValueError(f"top_k: k={k} must be in [1, {a.shape[-1]}] for a last axis of size "
                         f"{a.shape[-1]}")
    xp = _xp(a)
    order = xp.argsort(-a, axis=-1, kind="stable")[..., :int(k)]
    return take_along_axis(x, order, axis=-1), Tensor(order.astype(np.int32))


def in_top_k(targets, predictions, k: int) -> Tensor:
    """Whether each target's score is among the ``k`` largest of its row
    (``keras.ops.in_top_k``).

    Example:

    >>> nnforge.ops.in_top_k(np.array([1]), np.array([[0.1, 0.5, 0.4]]), 1)
    """
    t = data_of(targets, "in_top_k", "targets").astype(np.int64).reshape(-1)
    p = data_of(predictions, "in_top_k", "predictions")
    xp = _xp(p)
    target = p[xp.arange(p.shape[0]), t]
    return Tensor((p > target[:, None]).sum(axis=-1) < k)


def meshgrid(*xs, indexing: str = "xy") -> List[Tensor]:
    """Coordinate grids (``keras.ops.meshgrid``).

    Example:

    >>> gx, gy = nnforge.ops.meshgrid(np.arange(3), np.arange(2))
    """
    arrs = [data_of(x, "meshgrid", "x") for x in xs]
    return [Tensor(g) for g in _xp(arrs[0]).meshgrid(*arrs, indexing=indexing)]
