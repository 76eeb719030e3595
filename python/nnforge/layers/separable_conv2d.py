"""``SeparableConv2D``: a depthwise convolution followed by a 1x1 pointwise one."""
from __future__ import annotations

from .base_depthwise_conv import BaseSeparableConv


class SeparableConv2D(BaseSeparableConv):
    """Depthwise convolution followed by a 1x1 pointwise convolution to ``filters`` channels;
    kernels (kh, kw, in, depth_multiplier) and (1, 1, in*depth_multiplier, filters).

    Args:
        filters, kernel_size, strides, padding, dilation_rate, activation, use_bias: as Conv2D.
        depth_multiplier: depthwise filters per input channel.
        depthwise_initializer, pointwise_initializer, depthwise_regularizer,
        pointwise_regularizer, depthwise_constraint, pointwise_constraint: of the two kernels.
        bias_initializer, bias_regularizer, activity_regularizer, bias_constraint: as Conv2D.

    Example:

    >>> layer = nnforge.layers.SeparableConv2D(8, 3, padding="same")
    >>> layer(np.ones((1, 5, 5, 4), "float32")).shape
    (1, 5, 5, 8)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier: int = 1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)
