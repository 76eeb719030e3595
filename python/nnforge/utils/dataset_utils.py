"""``keras.utils.split_dataset``: a left and a right split of arrays or of a sequence of
samples."""
from __future__ import annotations

import random

import numpy as np


def _rescale_split_sizes(left_size, right_size, total_length: int):
    """Integer sizes from fractions or counts, with Keras's checks and rounding."""
    lt, rt = type(left_size), type(right_size)
    if left_size is not None and lt not in (int, float):
        raise TypeError("split_dataset: invalid `left_size` type. Expected: int or float or "
                        f"None, received: type(left_size)={lt}.")
    if right_size is not None and rt not in (int, float):
        raise TypeError("split_dataset: invalid `right_size` type. Expected: int or float or "
                        f"None, received: type(right_size)={rt}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("split_dataset: both `left_size` and `right_size` are zero. At least "
                         "one of the split sizes must be non-zero.")
    if (lt is int and (left_size <= 0 or left_size >= total_length)) or (
            lt is float and (left_size <= 0 or left_size >= 1)):
        raise ValueError("split_dataset: `left_size` should be either a positive integer "
                         f"smaller than {total_length}, or a float within the range `[0, 1]`. "
                         f"Received: left_size={left_size}")
    if (rt is int and (right_size <= 0 or right_size >= total_length)) or (
            rt is float and (right_size <= 0 or right_size >= 1)):
        raise ValueError("split_dataset: `right_size` should be either a positive integer and "
                         f"smaller than {total_length} or a float within the range `[0, 1]`. "
                         f"Received: right_size={right_size}")
    if lt is float and rt is float and left_size + right_size > 1:
        raise ValueError("split_dataset: the sum of `left_size` and `right_size` is greater "
                         "than 1. It must be less than or equal to 1.")
    left = round(left_size * total_length) if lt is float else left_size
    right = round(right_size * total_length) if rt is float else right_size
    if left is None:
        left = total_length - right
    elif right is None:
        right = total_length - left
    if left + right > total_length:
        raise ValueError("split_dataset: the sum of `left_size` and `right_size` should be "
                         f"smaller than the {total_length}. Received: left_size + right_size = "
                         f"{left + right} and total_length = {total_length}")
    for split, side in ((left, "left"), (right, "right")):
        if split == 0:
            raise ValueError(f"split_dataset: with `dataset` of length={total_length}, "
                             f"`left_size`={left} and `right_size`={right}. Resulting {side} "
                             "side dataset split will be empty. Adjust any of the "
                             "aforementioned parameters")
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False, seed=None,
                  preferred_backend=None):
    """Split a dataset into a left and a right part, e.g. train / test
    (``keras.utils.split_dataset``).

    The sizes, the checks and the shuffle follow Keras (with ``seed`` the permutation is the
    one Keras's TensorFlow path draws: Python's ``random`` seeded with ``seed``). nnforge has no
    ``tf.data``: each split comes back in the input's own form, ready for ``fit``: a NumPy
    array for an array, a tuple (list) of arrays for a tuple (list) of arrays, and a list of
    samples for any other sequence of samples (an object with ``__len__`` and
    ``__getitem__``).

    Args:
        dataset: an array, a tuple/list of arrays of the same length, or a sequence of samples.
        left_size: a fraction in (0, 1) or a number of samples for the left part (None: the
            rest after ``right_size``).
        right_size: the same for the right part (None: the rest after ``left_size``).
        shuffle: shuffle the samples before splitting.
        seed: the shuffle's seed.
        preferred_backend: accepted for Keras compatibility; ignored.

    Returns:
        ``(left, right)``.

    Example:

    >>> x, y = np.random.random((1000, 4)), np.random.random((1000, 1))
    >>> (x_train, y_train), (x_test, y_test) = split_dataset((x, y), left_size=0.8)
    >>> len(x_train), len(x_test)
    (800, 200)
    """
    if right_size is None and left_size is None:
        raise ValueError("split_dataset: at least one of the `left_size` or `right_size` must "
                         "be specified. Received: left_size=None and right_size=None")
    if isinstance(dataset, np.ndarray) or (hasattr(dataset, "__array__") and
                                           hasattr(dataset, "shape")):
        kind, arrays = "array", [np.asarray(dataset)]
    elif isinstance(dataset, (tuple, list)) and dataset and all(
            hasattr(a, "shape") and hasattr(a, "__len__") for a in dataset):
        kind, arrays = type(dataset), [np.asarray(a) for a in dataset]
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError("split_dataset: the arrays of `dataset` must have the same length, "
                             f"got lengths {[len(a) for a in arrays]}")
    elif hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__"):
        kind, arrays = "samples", None
    else:
        raise TypeError("split_dataset: the `dataset` argument must be an array, a list/tuple "
                        f"of arrays or a sequence of samples. Received: dataset={dataset!r} of "
                        f"type {type(dataset)}")
    total = len(arrays[0]) if arrays is not None else len(dataset)
    left, right = _rescale_split_sizes(left_size, right_size, total)
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(order)
    left_idx, right_idx = order[:left], order[total - right:]
    if kind == "samples":
        return [dataset[i] for i in left_idx], [dataset[i] for i in right_idx]
    li, ri = np.asarray(left_idx, np.int64), np.asarray(right_idx, np.int64)
    if kind == "array":
        return arrays[0][li], arrays[0][ri]
    return kind(a[li] for a in arrays), kind(a[ri] for a in arrays)
