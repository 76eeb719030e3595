"""Transposed convolutions of any rank on one base, ``BaseConvTranspose(rank)`` (Keras 3's
``keras/src/layers/convolutional/base_conv_transpose.py``), and ``Conv1DTranspose`` /
``Conv3DTranspose`` (``Conv2DTranspose`` lives in conv2d_transpose.py)."""
from __future__ import annotations

from nnforge import ops
from nnforge.utils.argument_validation import (conv_transpose_output_length,
                                               standardize_tuple)

from ._weight_options import add_weight_from_options
from .base_conv import _SPATIAL, BaseConv


class BaseConvTranspose(BaseConv):
    """Base of the transposed (fractionally strided) convolutions: kernel
    (k..., filters, in_channels); per spatial dimension the output length is Keras's:
    ``(L-1)*stride + max(kernel, stride)`` ('valid') or ``L*stride`` ('same'), or, with
    ``output_padding``, ``(L-1)*stride + kernel + output_padding`` ('valid') and
    ``(L-1)*stride + kernel % 2 + output_padding``-style lengths ('same') as TensorFlow.

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        filters: number of output channels.
        kernel_size, strides, dilation_rate: int or tuple of ``rank`` ints.
        padding: ``"valid"`` or ``"same"``.
        output_padding: None, or int / tuple of ``rank`` ints, each smaller than its stride.
        data_format: None or ``"channels_last"``.
        activation, use_bias and the initializers, regularizers and constraints: as ``Conv2D``.
    """

    _allows_causal = False

    def __init__(self, rank: int, filters: int, kernel_size, strides=1, padding: str = "valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, 1, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
        where = f"{type(self).__name__} '{self.name}'"
        self.output_padding = None if output_padding is None else standardize_tuple(
            output_padding, rank, "output_padding", where, allow_zero=True)
        if self.output_padding is not None:
            for op, s in zip(self.output_padding, self.strides):
                if op >= s:
                    raise ValueError(f"{where}: each output_padding must be smaller than its "
                                     f"stride, got output_padding={self.output_padding} and "
                                     f"strides={self.strides}")

    def build(self, input_shape) -> None:
        self._check_input_shape(input_shape)
        self.kernel = add_weight_from_options(
            self, "kernel", self.kernel_size + (self.filters, input_shape[-1]))
        self.bias = self._add_bias(self.filters)
        self.built = True

    def compute_output_shape(self, input_shape):
        where = f"{type(self).__name__} '{self.name}'"
        out = []
        for i, dim in enumerate(_SPATIAL[self.rank]):
            size = input_shape[1 + i]
            op = None if self.output_padding is None else self.output_padding[i]
            out.append(None if size is None else conv_transpose_output_length(
                size, self.kernel_size[i], self.strides[i], self.dilation_rate[i],
                self.padding, op, where, dim)[0])
        return (input_shape[0],) + tuple(out) + (self.filters,)

    def call(self, inputs):
        self._check_call_input(inputs, self.kernel.shape[-1])
        return self._bias_and_activation(ops.conv_transpose(
            inputs, self.kernel, self.strides, self.padding, self.output_padding,
            dilation_rate=self.dilation_rate))

    def get_config(self) -> dict:
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = (None if self.output_padding is None
                                    else list(self.output_padding))
        return config


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution (``keras.layers.Conv1DTranspose``): input
    (batch, steps, channels), kernel (kernel_size, filters, channels).

    Args:
        filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
        activation, use_bias and the initializers, regularizers and constraints: as
        ``BaseConvTranspose`` with rank 1.

    Example:

    >>> layer = nnforge.layers.Conv1DTranspose(4, 3, strides=2, padding="same")
    >>> layer(np.ones((1, 5, 2), "float32")).shape
    (1, 10, 4)
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3-D convolution (``keras.layers.Conv3DTranspose``): input
    (batch, depth, height, width, channels), kernel (kd, kh, kw, filters, channels).

    Args:
        filters, kernel_size, strides, padding, data_format, output_padding, dilation_rate,
        activation, use_bias and the initializers, regularizers and constraints: as
        ``BaseConvTranspose`` with rank 3 (note Keras's argument order: data_format before
        output_padding here).

    Example:

    >>> layer = nnforge.layers.Conv3DTranspose(4, 2, strides=2)
    >>> layer(np.ones((1, 2, 3, 4, 2), "float32")).shape
    (1, 4, 6, 8, 4)
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1, 1), padding: str = "valid",
                 data_format=None, output_padding=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding,
                         data_format, dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
