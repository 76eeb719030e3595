"""``Conv2D``: 2-D convolution over (batch, height, width, channels)."""
from __future__ import annotations

from .base_conv import BaseConv


class Conv2D(BaseConv):
    """2-D convolution layer (channels_last: input ``(batch, height, width, channels)``).

    Computed as im2col + our sgemm, with bias and relu/sigmoid/tanh fused into the GEMM output.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 2 ints.
        strides: int or tuple of 2 ints (default 1).
        padding: ``"valid"`` or ``"same"`` (TensorFlow's: the extra row/column of padding goes
            at the bottom/right).
        dilation_rate: int or tuple of 2 ints (default 1).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as Dense.

    Output shape: ``(batch, new_height, new_width, filters)``.

    Example:

    >>> layer = nnforge.layers.Conv2D(16, 3, padding="same", activation="relu")
    >>> layer(np.ones((2, 8, 8, 3), "float32")).shape
    (2, 8, 8, 16)
    """

    def __init__(self, filters: int, kernel_size, *args, **kwargs):
        # Keras's argument order (strides, padding, data_format, dilation_rate, groups,
        # activation, ...) is BaseConv's after the rank.
        super().__init__(2, filters, kernel_size, *args, **kwargs)
