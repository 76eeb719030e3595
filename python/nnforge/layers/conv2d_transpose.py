"""``Conv2DTranspose``: the transposed (fractionally strided) 2-D convolution."""
from __future__ import annotations

from .conv_transpose import BaseConvTranspose


class Conv2DTranspose(BaseConvTranspose):
    """Transposed convolution (``keras.layers.Conv2DTranspose``): kernel
    (kh, kw, filters, in_channels); output size (H-1)*stride + max(kernel, stride) ('valid')
    or H*stride ('same'), as Keras (``BaseConvTranspose``).

    Args:
        filters, kernel_size, strides, padding, dilation_rate, activation, use_bias and the
        initializers, regularizers and constraints: as ``Conv2D``.
        output_padding: None, or int / 2 ints, each smaller than its stride.

    Example:

    >>> layer = nnforge.layers.Conv2DTranspose(4, 3, strides=2, padding="same")
    >>> layer(np.ones((1, 5, 5, 2), "float32")).shape
    (1, 10, 10, 4)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
