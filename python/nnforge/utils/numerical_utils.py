"""``to_categorical`` and ``normalize`` with Keras semantics."""
from __future__ import annotations

import numpy as np


def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a one-hot (binary class) float32 matrix.

    Args:
        x: array-like of class ids in ``[0, num_classes)``. A trailing dimension of size 1 is
            dropped first, as in Keras: shape ``(n, 1)`` gives ``(n, num_classes)``.
        num_classes: number of classes; default ``max(x) + 1``.

    Returns:
        float32 array of shape ``x.shape + (num_classes,)``.

    Raises:
        ValueError: for non-integer values, negative ids, ids ``>= num_classes``, or a bad
            ``num_classes``.
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"to_categorical expects integer class ids; got values of dtype {arr.dtype}"
            ) from None
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise ValueError("to_categorical expects integer class ids; got complex values")
    if np.issubdtype(arr.dtype, np.floating):
        if arr.size and not np.all(np.isfinite(arr)):
            raise ValueError("to_categorical expects integer class ids; got NaN or inf")
        if arr.size and not np.all(arr == np.floor(arr)):
            bad = arr[arr != np.floor(arr)].ravel()[0]
            raise ValueError(
                f"to_categorical expects integer class ids; got the non-integer value {bad}"
            )
    ids = arr.astype(np.int64)

    input_shape = ids.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    ids = ids.reshape(-1)

    if ids.size and ids.min() < 0:
        raise ValueError(
            f"to_categorical expects non-negative class ids; got {int(ids.min())}"
        )
    if num_classes is None:
        if ids.size == 0:
            raise ValueError("to_categorical: num_classes is required for an empty input")
        num_classes = int(ids.max()) + 1
    else:
        if isinstance(num_classes, bool) or int(num_classes) != num_classes or num_classes < 1:
            raise ValueError(f"num_classes must be a positive integer; got {num_classes!r}")
        num_classes = int(num_classes)
        if ids.size and ids.max() >= num_classes:
            raise ValueError(
                f"to_categorical: class id {int(ids.max())} is out of range for "
                f"num_classes={num_classes} (ids must be < num_classes)"
            )

    categorical = np.zeros((ids.shape[0], num_classes), dtype=np.float32)
    categorical[np.arange(ids.shape[0]), ids] = 1.0
    return categorical.reshape(tuple(input_shape) + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Normalizes an array along ``axis`` by its ``order``-norm (zero vectors stay zero).

    Floating inputs keep their dtype; integer inputs become float32."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    if axis is None:
        axis = -1
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm = np.where(norm == 0, np.ones_like(norm), norm)
    return (x / norm).astype(x.dtype, copy=False)
