"""``Conv1D``: 1-D convolution over (batch, steps, channels)."""
from __future__ import annotations

from .base_conv import BaseConv


class Conv1D(BaseConv):
    """1-D convolution (``keras.layers.Conv1D``): input (batch, steps, channels), kernel
    (kernel_size, channels, filters), computed by ``ops.conv`` as a height-1 2-D convolution.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of 1 int.
        strides: int or tuple of 1 int (default 1).
        padding: ``"valid"``, ``"same"`` or ``"causal"`` (left padding: output t sees inputs
            up to t).
        dilation_rate: int or tuple of 1 int (default 1).
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as Dense.

    Output shape: ``(batch, new_steps, filters)``.

    Example:

    >>> layer = nnforge.layers.Conv1D(8, 3, padding="causal", activation="relu")
    >>> layer(np.ones((2, 10, 4), "float32")).shape
    (2, 10, 8)
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format=None, dilation_rate=1, groups: int = 1, activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
