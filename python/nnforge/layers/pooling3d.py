"""``MaxPooling3D`` and ``AveragePooling3D`` (and their aliases ``MaxPool3D``, ``AvgPool3D``) on
``BasePooling(3)``; ``ops.max_pool`` / ``ops.average_pool`` pool a 5-D input as a 2-D pooling over
(height, width) then one over depth (max and mean over a box are separable)."""
from __future__ import annotations

from nnforge import ops

from .pooling import BasePooling


class MaxPooling3D(BasePooling):
    """Max over 3-D windows of a (batch, depth, height, width, channels) input
    (``keras.layers.MaxPooling3D``).

    Args:
        pool_size: int or 3 ints (default (2, 2, 2)).
        strides: int, 3 ints, or None (default: pool_size).
        padding: ``"valid"`` or ``"same"`` (padding never wins).
        data_format: None or ``"channels_last"``.

    Example:

    >>> nnforge.layers.MaxPooling3D()(np.ones((1, 4, 4, 4, 3), "float32")).shape
    (1, 2, 2, 2, 3)
    """

    _op = staticmethod(ops.max_pool)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding: str = "valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(3, pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """Mean over 3-D windows of a (batch, depth, height, width, channels) input
    (``keras.layers.AveragePooling3D``); with 'same', each output averages the real (unpadded)
    elements of its window, as TensorFlow does.

    Args:
        pool_size: int or 3 ints (required, as in Keras).
        strides: int, 3 ints, or None (default: pool_size).
        padding: ``"valid"`` or ``"same"``.
        data_format: None or ``"channels_last"``.

    Example:

    >>> nnforge.layers.AveragePooling3D(2)(np.ones((1, 4, 4, 4, 3), "float32")).shape
    (1, 2, 2, 2, 3)
    """

    _op = staticmethod(ops.average_pool)

    def __init__(self, pool_size, strides=None, padding: str = "valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(3, pool_size, strides, padding, data_format, name=name, **kwargs)


MaxPool3D, AvgPool3D = MaxPooling3D, AveragePooling3D
