"""Turning what users pass to fit/evaluate/predict (arrays, lists, dicts, PyDatasets,
generators) into batches, with the checks Keras makes."""
from __future__ import annotations

from typing import Any, Iterator, List, Optional, Tuple

import numpy as np

from nnforge.core.tensor import Tensor
from nnforge.layers.node import flatten, map_structure


def is_array_like(x) -> bool:
    return isinstance(x, (np.ndarray, Tensor)) or (hasattr(x, "__array__") and hasattr(x, "shape"))


def to_host(structure):
    """Arrays (and Tensors, lists of numbers) as NumPy arrays, keeping the structure."""
    def conv(a):
        if a is None:
            return None
        if isinstance(a, Tensor):
            return a.numpy()
        if isinstance(a, np.ndarray):
            return a
        if hasattr(a, "__cuda_array_interface__"):
            return a  # a CuPy array stays on the device
        arr = np.asarray(a)
        if arr.dtype == object:
            raise TypeError(f"Expected numeric arrays, got an object array of shape {arr.shape}")
        return arr
    if isinstance(structure, (list, tuple)) and structure and all(
            isinstance(v, (int, float, np.number)) for v in structure):
        return np.asarray(structure)
    return map_structure(conv, structure)


def num_samples(structure, what: str) -> Optional[int]:
    arrays = [a for a in flatten(structure) if a is not None]
    if not arrays:
        return None
    sizes = {int(a.shape[0]) if getattr(a, "ndim", 0) else -1 for a in arrays}
    if -1 in sizes:
        raise ValueError(f"{what}: every array must have a batch dimension, got a scalar")
    if len(sizes) > 1:
        shapes = [tuple(a.shape) for a in arrays]
        raise ValueError(f"{what}: all arrays must contain the same number of samples, got "
                         f"shapes {shapes}")
    return sizes.pop()


def check_numeric(structure, what: str, allow_text: bool = False) -> None:
    """Refuse non-numeric arrays (``allow_text``: text arrays too, for string Inputs)."""
    for a in flatten(structure):
        if a is None:
            continue
        kind = getattr(getattr(a, "dtype", None), "kind", None)
        if kind is not None and kind not in ("biufUS" if allow_text else "biuf"):
            raise TypeError(f"{what}: data must be numeric, got dtype {a.dtype} with shape "
                            f"{tuple(a.shape)}")


def _rows(a, idx):
    """``a[idx]`` for a batch index (a slice or a 1-D integer array): a NumPy array's rows are
    gathered by one ``take`` (the same copy as ``a[idx]``, without fancy indexing's set-up)."""
    if isinstance(a, np.ndarray) and not isinstance(idx, slice):
        return a.take(idx, axis=0)
    return a[idx]


def slice_structure(structure, idx):
    if isinstance(structure, np.ndarray):
        return _rows(structure, idx)
    return map_structure(lambda a: None if a is None else _rows(a, idx), structure)


def unpack(data) -> Tuple[Any, Any, Any]:
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` from a generator/PyDataset item."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(f"A batch must be (x,), (x, y) or (x, y, sample_weight); got a tuple "
                         f"of {len(data)} elements")
    return data, None, None


def unpack_x_y_sample_weight(data) -> Tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` from a batch as ``train_step`` receives it
    (``keras.utils.unpack_x_y_sample_weight``): ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``; missing entries are None.

    Example:

    >>> x, y, sample_weight = unpack_x_y_sample_weight(data)
    """
    if isinstance(data, list):
        data = tuple(data)
    return unpack(data)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch as Keras hands it to ``train_step`` (``keras.utils.pack_x_y_sample_weight``):
    ``x`` alone (or ``(x,)`` when x is a tuple/list), ``(x, y)``, or ``(x, y, sample_weight)``.

    Example:

    >>> pack_x_y_sample_weight(x, y)
    (x, y)
    """
    if y is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def class_weight_to_sample_weights(y, class_weight: dict) -> np.ndarray:
    """Per-sample weights from ``class_weight`` (class id -> weight) for one output's targets,
    one-hot or integer ids."""
    if isinstance(y, (list, tuple)) and len(y) > 1:
        raise ValueError("fit: class_weight is only supported for models with one output")
    yy = y[0] if isinstance(y, (list, tuple)) else y
    ids = np.argmax(yy, axis=-1) if yy.ndim > 1 and yy.shape[-1] > 1 else \
        np.asarray(yy).reshape(len(yy), -1)[:, 0].astype(np.int64)
    w = np.ones(len(ids), dtype=np.float32)
    for k, v in class_weight.items():
        w[ids == int(k)] = v
    return w


class ArrayBatches:
    """Batches of in-memory arrays, shuffled per epoch when asked."""

    def __init__(self, x, y=None, sample_weight=None, batch_size: int = 32,
                 shuffle: bool = False, rng: Optional[np.random.Generator] = None,
                 steps: Optional[int] = None, what: str = "fit"):
        if batch_size is None:
            batch_size = 32
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"{what}: batch_size must be a positive integer, got {batch_size!r}")
        self.x, self.y, self.sw = x, y, sample_weight
        n_x = num_samples(x, f"{what}: x")
        if n_x is None:
            raise ValueError(f"{what}: x is empty or None")
        n_y = num_samples(y, f"{what}: y") if y is not None else None
        if n_y is not None and n_y != n_x:
            raise ValueError(f"{what}: x and y must have the same number of samples, got "
                             f"{n_x} and {n_y} (x shapes {[tuple(a.shape) for a in flatten(x)]}, "
                             f"y shapes {[tuple(a.shape) for a in flatten(y)]})")
        if sample_weight is not None:
            n_w = num_samples(sample_weight, f"{what}: sample_weight")
            if n_w != n_x:
                raise ValueError(f"{what}: sample_weight has {n_w} entries but x has {n_x} "
                                 "samples")
        self.n = n_x
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.rng = rng
        full = -(-self.n // self.batch_size)
        self.steps = full if steps is None else min(int(steps), full) if self.n else 0

    def __len__(self) -> int:
        return self.steps

    def epoch(self) -> Iterator[Tuple[Any, Any, Any]]:
        if self.shuffle == "batch":
            order = np.arange(self.n)
            starts = np.arange(0, self.n, self.batch_size)
            self.rng.shuffle(starts)
            order = np.concatenate([order[s:s + self.batch_size] for s in starts]) \
                if len(starts) else order
        elif self.shuffle:
            order = self.rng.permutation(self.n)
        else:
            order = None
        for i in range(self.steps):
            lo, hi = i * self.batch_size, min((i + 1) * self.batch_size, self.n)
            idx = slice(lo, hi) if order is None else order[lo:hi]
            yield (slice_structure(self.x, idx),
                   slice_structure(self.y, idx) if self.y is not None else None,
                   slice_structure(self.sw, idx) if self.sw is not None else None)


class IterableBatches:
    """Batches from a ``PyDataset``/``keras.utils.Sequence`` or a Python generator."""

    def __init__(self, data, steps: Optional[int] = None, what: str = "fit"):
        self.data = data
        self.what = what
        self.is_dataset = hasattr(data, "__getitem__") and hasattr(data, "__len__")
        if self.is_dataset:
            n = len(data)
            self.steps = n if steps is None else min(int(steps), n)
        else:
            self.steps = steps
            self._iter = iter(data)

    def __len__(self):
        return self.steps

    def epoch(self):
        if self.is_dataset:
            for i in range(self.steps):
                yield unpack(self.data[i])
            if hasattr(self.data, "on_epoch_end"):
                self.data.on_epoch_end()
        else:
            count = 0
            while self.steps is None or count < self.steps:
                try:
                    item = next(self._iter)
                except StopIteration:
                    return
                count += 1
                yield unpack(item)


def is_iterable_data(x) -> bool:
    if isinstance(x, (np.ndarray, Tensor, list, tuple, dict)) or x is None:
        return False
    return hasattr(x, "__next__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__")
                                      and not hasattr(x, "shape"))


def train_validation_split(x, y, sw, validation_split: float):
    """Keras's split: the last ``validation_split`` fraction (before any shuffling)."""
    if not 0 < validation_split < 1:
        raise ValueError(f"fit: validation_split must be in (0, 1), got {validation_split}")
    n = num_samples(x, "fit: x")
    split_at = int(n * (1.0 - validation_split))
    if split_at == 0 or split_at == n:
        raise ValueError(f"fit: validation_split={validation_split} leaves an empty training or "
                         f"validation set for {n} samples")
    first, second = slice(0, split_at), slice(split_at, n)
    return ((slice_structure(x, first), slice_structure(y, first) if y is not None else None,
             slice_structure(sw, first) if sw is not None else None),
            (slice_structure(x, second), slice_structure(y, second) if y is not None else None,
             slice_structure(sw, second) if sw is not None else None))
