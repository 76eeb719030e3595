"""Global average and max pooling over the depth, height and width of a
(batch, depth, height, width, channels) input."""
from __future__ import annotations

from nnforge import ops

from .global_pooling import _GlobalPooling2D


class _GlobalPooling3D(_GlobalPooling2D):
    def compute_output_shape(self, s):
        if len(s) != 5:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a 5-D input "
                             f"(batch, depth, height, width, channels), got {tuple(s)}")
        return (s[0], 1, 1, 1, s[4]) if self.keepdims else (s[0], s[4])

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        return type(self)._reduce(inputs, axis=(1, 2, 3), keepdims=self.keepdims)


class GlobalAveragePooling3D(_GlobalPooling3D):
    """Mean over depth, height and width (``keras.layers.GlobalAveragePooling3D``):
    (batch, D, H, W, C) -> (batch, C), or (batch, 1, 1, 1, C) with ``keepdims=True``.

    Args:
        data_format: None or ``"channels_last"``.
        keepdims: keep the pooled axes with size 1.

    Example:

    >>> nnforge.layers.GlobalAveragePooling3D()(np.ones((2, 3, 4, 5, 6), "float32")).shape
    (2, 6)
    """

    _reduce = staticmethod(ops.mean)


class GlobalMaxPooling3D(_GlobalPooling3D):
    """Max over depth, height and width (``keras.layers.GlobalMaxPooling3D``):
    (batch, D, H, W, C) -> (batch, C), or (batch, 1, 1, 1, C) with ``keepdims=True``.

    Args:
        data_format: None or ``"channels_last"``.
        keepdims: keep the pooled axes with size 1.

    Example:

    >>> nnforge.layers.GlobalMaxPooling3D()(np.ones((2, 3, 4, 5, 6), "float32")).shape
    (2, 6)
    """

    _reduce = staticmethod(ops.max)


GlobalAvgPool3D, GlobalMaxPool3D = GlobalAveragePooling3D, GlobalMaxPooling3D
