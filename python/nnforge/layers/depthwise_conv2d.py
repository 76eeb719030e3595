"""``DepthwiseConv2D``: each input channel convolved with its own filters."""
from __future__ import annotations

from nnforge import constraints, initializers, ops, regularizers

from .base_conv import BaseConv


def depthwise_conv(inputs, kernel, strides, padding, dilation):
    """y[..., c*M + m] = sum_k patches[..., k, c] * kernel[k, c, m] (kernel (kh, kw, C, M))."""
    kh, kw, c, mult = kernel.shape
    p = ops.extract_patches(inputs, (kh, kw), strides, dilation, padding)
    n, oh, ow, _ = p.shape
    p = ops.reshape(p, (n, oh, ow, kh * kw, c, 1))
    k = ops.reshape(kernel, (kh * kw, c, mult))
    y = ops.sum(ops.multiply(p, k), axis=3)
    return ops.reshape(y, (n, oh, ow, c * mult))


class DepthwiseConv2D(BaseConv):
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
        # The depthwise kernel is BaseConv's kernel: its initializer, regularizer, constraint.
        super().__init__(2, None, kernel_size, strides, padding, data_format, dilation_rate,
                         1, activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        if depth_multiplier < 1:
            raise ValueError(f"DepthwiseConv2D '{self.name}': depth_multiplier must be >= 1")
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = self.kernel_initializer
        self.depthwise_regularizer = self.kernel_regularizer
        self.depthwise_constraint = self.kernel_constraint

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.compute_output_shape(input_shape)
        c = input_shape[-1]
        self.kernel = self.add_weight(shape=self.kernel_size + (c, self.depth_multiplier),
                                      initializer=self.depthwise_initializer,
                                      regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint, name="kernel")
        self.bias = self._add_bias(c * self.depth_multiplier)
        self._maybe_int8_build()
        self.built = True

    def compute_output_shape(self, s):
        return (s[0],) + self._spatial_output(s) + (
            None if s[3] is None else s[3] * self.depth_multiplier,)

    def call(self, inputs):
        self._check_call_input(inputs, self.kernel.shape[2])
        # int8: the float path on the dequantized kernel (no int8 depthwise kernel yet)
        kernel = self._int8_dequantized() if self.quantization_mode == "int8" else self.kernel
        return self._bias_and_activation(depthwise_conv(inputs, kernel, self.strides,
                                                        self.padding, self.dilation_rate))

    def _weight_config(self) -> dict:
        return {"depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint)}

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["depth_multiplier"] = self.depth_multiplier
        return config
