"""``SeparableConv2D``: a depthwise convolution followed by a 1x1 pointwise one."""
from __future__ import annotations

from nnforge import constraints, initializers, ops, regularizers

from .base_conv import BaseConv
from .depthwise_conv2d import depthwise_conv


class SeparableConv2D(BaseConv):
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
                         1, activation, use_bias, depthwise_initializer, bias_initializer,
                         depthwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = self.kernel_initializer
        self.depthwise_regularizer = self.kernel_regularizer
        self.depthwise_constraint = self.kernel_constraint
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        c = input_shape[-1]
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (c, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, name="depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            shape=(1, 1, c * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, name="pointwise_kernel")
        self.bias = self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        self._check_call_input(inputs, self.depthwise_kernel.shape[2])
        y = depthwise_conv(inputs, self.depthwise_kernel, self.strides, self.padding,
                           self.dilation_rate)
        return self._bias_and_activation(ops.conv(y, self.pointwise_kernel, 1, "valid"))

    def _weight_config(self) -> dict:
        return {"depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint)}

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["depth_multiplier"] = self.depth_multiplier
        return config
