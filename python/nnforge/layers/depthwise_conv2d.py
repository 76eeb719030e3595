"""``DepthwiseConv2D``: each input channel convolved with its own filters."""
from __future__ import annotations

from .base_depthwise_conv import BaseDepthwiseConv


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise convolution: each input channel convolved with its own ``depth_multiplier``
    filters; kernel (kh, kw, in_channels, depth_multiplier).

    Args:
        kernel_size, strides, padding, dilation_rate, activation, use_bias: as ``Conv2D``.
        depth_multiplier: filters per input channel.
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: of the kernel.
        bias_initializer, bias_regularizer, activity_regularizer, bias_constraint: as Conv2D.

    Example:

    >>> layer = nnforge.layers.DepthwiseConv2D(3, depth_multiplier=2)
    >>> layer(np.ones((1, 5, 5, 4), "float32")).shape
    (1, 3, 3, 8)
    """

    def __init__(self, kernel_size, strides=(1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(2, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
