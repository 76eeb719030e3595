"""``Conv2DTranspose``: the transposed (fractionally strided) 2-D convolution."""
from __future__ import annotations

from nnforge import ops

from .base_conv import BaseConv


class Conv2DTranspose(BaseConv):
    """Transposed convolution (``keras.layers.Conv2DTranspose``): kernel
    (kh, kw, filters, in_channels); output size (H-1)*stride + kernel ('valid') or H*stride
    ('same').

    Args:
        filters, kernel_size, strides, padding, dilation_rate, activation, use_bias and the
        initializers, regularizers and constraints: as ``Conv2D``.
        output_padding: refused (None only).

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
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         1, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
        if output_padding is not None:
            raise ValueError(f"Conv2DTranspose '{self.name}': output_padding is not supported")

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.kernel = self.add_weight(shape=self.kernel_size + (self.filters, input_shape[-1]),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = self._add_bias(self.filters)
        self.built = True

    def compute_output_shape(self, s):
        out = []
        for i in range(2):
            d = s[1 + i]
            eff = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
            out.append(None if d is None else (d * self.strides[i] if self.padding == "same"
                                               else (d - 1) * self.strides[i] + eff))
        return (s[0], out[0], out[1], self.filters)

    def call(self, inputs):
        self._check_call_input(inputs, self.kernel.shape[-1])
        return self._bias_and_activation(ops.conv_transpose(
            inputs, self.kernel, self.strides, self.padding, dilation_rate=self.dilation_rate))

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = None
        return config
