"""Depthwise and separable convolutions of rank 1 or 2 on two bases,
``BaseDepthwiseConv(rank)`` and ``BaseSeparableConv(rank)`` (Keras 3's
``base_depthwise_conv.py`` / ``base_separable_conv.py``), both computed by
``ops.depthwise_conv`` (and ``ops.conv`` for the pointwise step)."""
from __future__ import annotations

from nnforge import ops

from ._weight_options import add_weight_from_options, set_weight_options, weight_options_config
from .base_conv import BaseConv


class _DepthwiseStage(BaseConv):
    """What the depthwise and separable convolutions share: padding 'valid' or 'same' only,
    ``depth_multiplier`` filters per input channel, and a depthwise kernel
    (k..., in_channels, depth_multiplier) whose initializer, regularizer and constraint are
    ``BaseConv``'s kernel options, kept again as ``depthwise_initializer`` and so on."""

    _allows_causal = False

    def _set_depth_multiplier(self, depth_multiplier) -> None:
        if not isinstance(depth_multiplier, int) or depth_multiplier < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': depth_multiplier must be an "
                             f"int >= 1, got {depth_multiplier!r}")
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = self.kernel_initializer
        self.depthwise_regularizer = self.kernel_regularizer
        self.depthwise_constraint = self.kernel_constraint

    def _add_depthwise_kernel(self, input_shape, name: str):
        """Checks ``input_shape`` and adds the depthwise kernel, named ``name``."""
        self._check_input_shape(input_shape)
        self.compute_output_shape(input_shape)  # validates the kernel against the input size
        return add_weight_from_options(
            self, "depthwise", self.kernel_size + (input_shape[-1], self.depth_multiplier),
            name=name)

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["depth_multiplier"] = self.depth_multiplier
        return config


class BaseDepthwiseConv(_DepthwiseStage):
    """Depthwise convolution: each input channel convolved with its own ``depth_multiplier``
    filters; kernel (k..., in_channels, depth_multiplier); output channel ``c*M + m``.

    Args:
        rank: number of spatial dimensions (1 or 2).
        kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias: as
            the convolution of that rank.
        depth_multiplier: filters per input channel (>= 1).
        depthwise_initializer, depthwise_regularizer, depthwise_constraint: of the kernel.
        bias_initializer, bias_regularizer, activity_regularizer, bias_constraint: as Conv2D.
    """

    def __init__(self, rank: int, kernel_size, strides=1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format=None, dilation_rate=1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None,
                 **kwargs):
        # The depthwise kernel is BaseConv's kernel: its initializer, regularizer, constraint.
        super().__init__(rank, None, kernel_size, strides, padding, data_format, dilation_rate,
                         1, activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self._set_depth_multiplier(depth_multiplier)

    def build(self, input_shape):
        self.kernel = self._add_depthwise_kernel(input_shape, "kernel")
        self.bias = self._add_bias(input_shape[-1] * self.depth_multiplier)
        self._maybe_int8_build()
        self.built = True

    def compute_output_shape(self, s):
        return (s[0],) + self._spatial_output(s) + (
            None if s[-1] is None else s[-1] * self.depth_multiplier,)

    def call(self, inputs):
        self._check_call_input(inputs, self.kernel.shape[-2])
        # int8: the float path on the dequantized kernel (no int8 depthwise kernel yet)
        kernel = self._int8_dequantized() if self.quantization_mode == "int8" else self.kernel
        return self._bias_and_activation(ops.depthwise_conv(
            inputs, kernel, self.strides, self.padding, dilation_rate=self.dilation_rate))

    def _weight_config(self) -> dict:
        return weight_options_config(self, "depthwise")


class BaseSeparableConv(_DepthwiseStage):
    """Depthwise convolution followed by a pointwise (size-1) convolution to ``filters``
    channels; kernels (k..., in, depth_multiplier) and (1..., in*depth_multiplier, filters).

    Args:
        rank: number of spatial dimensions (1 or 2).
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation,
            use_bias: as the convolution of that rank.
        depth_multiplier: depthwise filters per input channel.
        depthwise_initializer, pointwise_initializer, depthwise_regularizer,
        pointwise_regularizer, depthwise_constraint, pointwise_constraint: of the two kernels.
        bias_initializer, bias_regularizer, activity_regularizer, bias_constraint: as Conv2D.
    """

    def __init__(self, rank: int, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format=None, dilation_rate=1, depth_multiplier: int = 1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format,
                         dilation_rate, 1, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
        self._set_depth_multiplier(depth_multiplier)
        set_weight_options(self, pointwise=(pointwise_initializer, pointwise_regularizer,
                                            pointwise_constraint))

    def build(self, input_shape):
        self.depthwise_kernel = self._add_depthwise_kernel(input_shape, "depthwise_kernel")
        self.pointwise_kernel = add_weight_from_options(
            self, "pointwise",
            (1,) * self.rank + (input_shape[-1] * self.depth_multiplier, self.filters),
            name="pointwise_kernel")
        self.bias = self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        self._check_call_input(inputs, self.depthwise_kernel.shape[-2])
        return self._bias_and_activation(ops.separable_conv(
            inputs, self.depthwise_kernel, self.pointwise_kernel, self.strides, self.padding,
            dilation_rate=self.dilation_rate))

    def _weight_config(self) -> dict:
        return weight_options_config(self, "depthwise", "pointwise")


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution (``keras.layers.DepthwiseConv1D``): each channel of a
    (batch, steps, channels) input convolved with its own ``depth_multiplier`` filters; kernel
    (kernel_size, channels, depth_multiplier).

    Args:
        kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate,
        activation, use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
        bias_regularizer, activity_regularizer, depthwise_constraint, bias_constraint: as
        ``BaseDepthwiseConv`` with rank 1.

    Example:

    >>> layer = nnforge.layers.DepthwiseConv1D(3, depth_multiplier=2)
    >>> layer(np.ones((1, 6, 4), "float32")).shape
    (1, 4, 8)
    """

    def __init__(self, kernel_size, strides=1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format=None, dilation_rate=1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class SeparableConv1D(BaseSeparableConv):
    """1-D separable convolution (``keras.layers.SeparableConv1D``): a depthwise convolution
    then a pointwise one to ``filters`` channels; kernels (kernel_size, in, depth_multiplier)
    and (1, in*depth_multiplier, filters).

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
        activation, use_bias and the depthwise/pointwise/bias initializers, regularizers and
        constraints: as ``BaseSeparableConv`` with rank 1.

    Example:

    >>> layer = nnforge.layers.SeparableConv1D(8, 3, padding="same")
    >>> layer(np.ones((1, 6, 4), "float32")).shape
    (1, 6, 8)
    """

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format=None, dilation_rate=1, depth_multiplier: int = 1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)
