"""Conv2DTranspose, DepthwiseConv2D and SeparableConv2D (channels_last, Keras's layouts)."""
from __future__ import annotations

from nnforge import activations, constraints, initializers, ops, regularizers
from nnforge.ops._util import normalize_tuple

from .conv2d import conv_output_dim
from .layer import Layer


class _ConvBase(Layer):
    def _common(self, kernel_size, strides, padding, dilation_rate, activation, use_bias,
                bias_initializer, bias_regularizer, bias_constraint, data_format):
        fn = f"{type(self).__name__} '{self.name}'"
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{fn}: only data_format='channels_last' is supported")
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"{fn}: padding must be 'valid' or 'same', got {padding!r}")
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size", fn)
        self.strides = normalize_tuple(strides, 2, "strides", fn)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate", fn)
        self.padding = padding
        self.data_format = "channels_last"
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.bias_initializer = initializers.get(bias_initializer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)

    def _check4(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a 4-D input with "
                             f"known channels, got {tuple(input_shape)}")

    def _bias(self, n):
        return self.add_weight(shape=(n,), initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint,
                               name="bias") if self.use_bias else None

    def _finish(self, y):
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return self.activation(y)

    def _base_config(self):
        config = super().get_config()
        config.update({"kernel_size": list(self.kernel_size), "strides": list(self.strides),
                       "padding": self.padding, "data_format": self.data_format,
                       "dilation_rate": list(self.dilation_rate),
                       "activation": activations.serialize(self.activation),
                       "use_bias": self.use_bias,
                       "bias_initializer": initializers.serialize(self.bias_initializer),
                       "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                       "bias_constraint": constraints.serialize(self.bias_constraint)})
        return config


class Conv2DTranspose(_ConvBase):
    """Transposed convolution (``keras.layers.Conv2DTranspose``): kernel
    (kh, kw, filters, in_channels); output size (H-1)*stride + kernel ('valid') or H*stride
    ('same')."""

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"Conv2DTranspose '{self.name}': filters must be a positive int")
        if output_padding is not None:
            raise ValueError(f"Conv2DTranspose '{self.name}': output_padding is not supported")
        self._common(kernel_size, strides, padding, dilation_rate, activation, use_bias,
                     bias_initializer, bias_regularizer, bias_constraint, data_format)
        self.filters = filters
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def build(self, input_shape):
        self._check4(input_shape)
        self.kernel = self.add_weight(shape=self.kernel_size + (self.filters, input_shape[-1]),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = self._bias(self.filters)
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
        return self._finish(ops.conv_transpose(inputs, self.kernel, self.strides, self.padding,
                                               dilation_rate=self.dilation_rate))

    def get_config(self):
        config = self._base_config()
        config.update({"filters": self.filters, "output_padding": None,
                       "kernel_initializer": initializers.serialize(self.kernel_initializer),
                       "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                       "kernel_constraint": constraints.serialize(self.kernel_constraint)})
        return config


def _depthwise(inputs, kernel, strides, padding, dilation):
    """y[..., c*M + m] = sum_k patches[..., k, c] * kernel[k, c, m]."""
    kh, kw, c, mult = kernel.shape
    p = ops.extract_patches(inputs, (kh, kw), strides, dilation, padding)
    n, oh, ow, _ = p.shape
    p = ops.reshape(p, (n, oh, ow, kh * kw, c, 1))
    k = ops.reshape(kernel, (kh * kw, c, mult))
    y = ops.sum(ops.multiply(p, k), axis=3)
    return ops.reshape(y, (n, oh, ow, c * mult))


class DepthwiseConv2D(_ConvBase):
    """Depthwise convolution: each input channel convolved with its own ``depth_multiplier``
    filters; kernel (kh, kw, in_channels, depth_multiplier)."""

    def __init__(self, kernel_size, strides=(1, 1), padding: str = "valid",
                 depth_multiplier: int = 1, data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        self._common(kernel_size, strides, padding, dilation_rate, activation, use_bias,
                     bias_initializer, bias_regularizer, bias_constraint, data_format)
        if depth_multiplier < 1:
            raise ValueError(f"DepthwiseConv2D '{self.name}': depth_multiplier must be >= 1")
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def build(self, input_shape):
        self._check4(input_shape)
        self.compute_output_shape(input_shape)
        c = input_shape[-1]
        self.kernel = self.add_weight(shape=self.kernel_size + (c, self.depth_multiplier),
                                      initializer=self.depthwise_initializer,
                                      regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint, name="kernel")
        self.bias = self._bias(c * self.depth_multiplier)
        self.built = True

    def compute_output_shape(self, s):
        fn = f"DepthwiseConv2D '{self.name}'"
        h = conv_output_dim(s[1], self.kernel_size[0], self.strides[0], self.dilation_rate[0],
                            self.padding, fn, "height")
        w = conv_output_dim(s[2], self.kernel_size[1], self.strides[1], self.dilation_rate[1],
                            self.padding, fn, "width")
        return (s[0], h, w, None if s[3] is None else s[3] * self.depth_multiplier)

    def call(self, inputs):
        return self._finish(_depthwise(inputs, self.kernel, self.strides, self.padding,
                                       self.dilation_rate))

    def get_config(self):
        config = self._base_config()
        config.update({"depth_multiplier": self.depth_multiplier,
                       "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                       "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                       "depthwise_constraint": constraints.serialize(self.depthwise_constraint)})
        return config


class SeparableConv2D(_ConvBase):
    """Depthwise convolution followed by a 1x1 pointwise convolution to ``filters`` channels;
    kernels (kh, kw, in, depth_multiplier) and (1, 1, in*depth_multiplier, filters)."""

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier: int = 1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        self._common(kernel_size, strides, padding, dilation_rate, activation, use_bias,
                     bias_initializer, bias_regularizer, bias_constraint, data_format)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"SeparableConv2D '{self.name}': filters must be a positive int")
        self.filters, self.depth_multiplier = filters, int(depth_multiplier)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        self._check4(input_shape)
        c = input_shape[-1]
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (c, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, name="depthwise_kernel")
        self.pointwise_kernel = self.add_weight(
            shape=(1, 1, c * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, name="pointwise_kernel")
        self.bias = self._bias(self.filters)
        self.built = True

    def compute_output_shape(self, s):
        fn = f"SeparableConv2D '{self.name}'"
        h = conv_output_dim(s[1], self.kernel_size[0], self.strides[0], self.dilation_rate[0],
                            self.padding, fn, "height")
        w = conv_output_dim(s[2], self.kernel_size[1], self.strides[1], self.dilation_rate[1],
                            self.padding, fn, "width")
        return (s[0], h, w, self.filters)

    def call(self, inputs):
        y = _depthwise(inputs, self.depthwise_kernel, self.strides, self.padding,
                       self.dilation_rate)
        return self._finish(ops.conv(y, self.pointwise_kernel, 1, "valid"))

    def get_config(self):
        config = self._base_config()
        config.update({"filters": self.filters, "depth_multiplier": self.depth_multiplier,
                       "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                       "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                       "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                       "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                       "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                       "pointwise_constraint": constraints.serialize(self.pointwise_constraint)})
        return config
