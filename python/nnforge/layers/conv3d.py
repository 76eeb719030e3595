"""``Conv3D``: 3-D convolution over (batch, depth, height, width, channels)."""
from __future__ import annotations

from .base_conv import BaseConv


class Conv3D(BaseConv):
    """3-D convolution (``keras.layers.Conv3D``): input (batch, depth, height, width, channels),
    kernel (kd, kh, kw, channels, filters), computed by ``ops.conv`` as a sum over the kernel's
    depth of 2-D im2col + GEMM convolutions.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 3 ints.
        strides: int or tuple of 3 ints (default 1).
        padding: ``"valid"`` or ``"same"``.
        data_format: None or ``"channels_last"``.
        dilation_rate: int or tuple of 3 ints (default 1).
        groups: 1 only.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as Dense.

    Output shape: ``(batch, new_depth, new_height, new_width, filters)``.

    Example:

    >>> layer = nnforge.layers.Conv3D(4, 3, padding="same")
    >>> layer(np.ones((1, 4, 5, 6, 2), "float32")).shape
    (1, 4, 5, 6, 4)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1, 1), padding: str = "valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups: int = 1, activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
