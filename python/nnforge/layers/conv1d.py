"""1-D convolution and pooling over (batch, steps, channels), through the 2-D kernels."""
from __future__ import annotations

import numpy as np

from nnforge import activations, constraints, initializers, ops, regularizers
from nnforge.core.tensor import Tensor
from nnforge.ops._util import conv_geometry

from .layer import Layer


def _int1(v, name, layer):
    v = v[0] if isinstance(v, (tuple, list)) else v
    if not isinstance(v, (int, np.integer)) or v < 1:
        raise ValueError(f"{layer}: {name} must be a positive int, got {v!r}")
    return int(v)


class Conv1D(Layer):
    """1-D convolution (``keras.layers.Conv1D``): input (batch, steps, channels), kernel
    (kernel_size, channels, filters); padding 'valid', 'same' or 'causal'."""

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format=None, dilation_rate=1, groups: int = 1, activation=None,
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=regularizers.get(activity_regularizer), **kwargs)
        fn = f"Conv1D '{self.name}'"
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"{fn}: filters must be a positive integer, got {filters!r}")
        padding = str(padding).lower()
        if padding not in ("valid", "same", "causal"):
            raise ValueError(f"{fn}: padding must be 'valid', 'same' or 'causal', got {padding!r}")
        self.filters = filters
        self.kernel_size = _int1(kernel_size, "kernel_size", fn)
        self.strides = _int1(strides, "strides", fn)
        self.dilation_rate = _int1(dilation_rate, "dilation_rate", fn)
        self.padding = padding
        self.data_format = "channels_last"
        self.activation = activations.get(activation)
        self._act_name = activations.name_of(self.activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape) -> None:
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"Conv1D '{self.name}': expected an input (batch, steps, channels) "
                             f"with known channels, got {tuple(input_shape)}")
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(shape=(self.kernel_size, input_shape[-1], self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer=self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint,
                                    name="bias") if self.use_bias else None
        self.built = True

    def compute_output_shape(self, s):
        steps = s[1]
        if steps is not None:
            pad = "valid" if self.padding == "causal" else self.padding
            size = steps + (self.kernel_size - 1) * self.dilation_rate \
                if self.padding == "causal" else steps
            steps = conv_geometry(size, self.kernel_size, self.strides, self.dilation_rate, pad,
                                  f"Conv1D '{self.name}'", "steps")[0]
        return (s[0], steps, self.filters)

    def call(self, inputs):
        shape = tuple(inputs.shape)
        if len(shape) != 3 or shape[-1] != self.kernel.shape[1]:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible: expected (batch, "
                             f"steps, {self.kernel.shape[1]}), got {shape}")
        x = inputs
        padding = self.padding
        if padding == "causal":
            x = ops.pad(x, ((0, 0), ((self.kernel_size - 1) * self.dilation_rate, 0), (0, 0)))
            padding = "valid"
        x4 = ops.expand_dims(x, 1)
        k4 = ops.expand_dims(self.kernel, 0)
        fused = self._act_name if self._act_name in ("linear", "relu", "sigmoid", "tanh") else None
        y = ops.conv(x4, k4, (1, self.strides), padding, dilation_rate=(1, self.dilation_rate),
                     bias=self.bias, activation=fused)
        y = ops.squeeze(y, 1)
        return y if fused is not None else self.activation(y)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": [self.kernel_size],
            "strides": [self.strides], "padding": self.padding, "data_format": self.data_format,
            "dilation_rate": [self.dilation_rate], "groups": 1,
            "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint)})
        return config


class _Pooling1D(Layer):
    _op = None

    def __init__(self, pool_size=2, strides=None, padding: str = "valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        fn = f"{type(self).__name__} '{self.name}'"
        self.pool_size = _int1(pool_size, "pool_size", fn)
        self.strides = _int1(strides if strides is not None else self.pool_size, "strides", fn)
        self.padding = str(padding).lower()
        self.data_format = "channels_last"

    def compute_output_shape(self, s):
        steps = None if s[1] is None else conv_geometry(
            s[1], self.pool_size, self.strides, 1, self.padding, self.name, "steps")[0]
        return (s[0], steps, s[2])

    def call(self, inputs):
        y = type(self)._op(ops.expand_dims(inputs, 1), (1, self.pool_size), (1, self.strides),
                           self.padding)
        return ops.squeeze(y, 1)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"pool_size": [self.pool_size], "strides": [self.strides],
                       "padding": self.padding, "data_format": self.data_format})
        return config


class MaxPooling1D(_Pooling1D):
    """Max over windows of ``pool_size`` steps."""

    _op = staticmethod(ops.max_pool)


class AveragePooling1D(_Pooling1D):
    """Mean over windows of ``pool_size`` steps."""

    _op = staticmethod(ops.average_pool)


class _GlobalPooling1D(Layer):
    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = "channels_last"
        self.keepdims = keepdims
        self.supports_masking = True

    def compute_output_shape(self, s):
        return (s[0], 1, s[2]) if self.keepdims else (s[0], s[2])

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over steps; with a mask (from Embedding(mask_zero=True)) only unmasked steps."""

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1, keepdims=self.keepdims)
        m = ops.cast(ops.expand_dims(mask, -1), "float32")
        total = ops.sum(ops.multiply(inputs, m), axis=1, keepdims=self.keepdims)
        count = ops.maximum(ops.sum(m, axis=1, keepdims=self.keepdims), 1.0)
        return ops.divide(total, count)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Max over steps (masked steps never win)."""

    def call(self, inputs, mask=None):
        if mask is not None:
            m = ops.expand_dims(mask, -1).data
            inputs = ops.where(m, inputs, np.float32(-np.inf) * ops.ones_like(inputs).data)
        return ops.max(inputs, axis=1, keepdims=self.keepdims)


MaxPool1D, AvgPool1D = MaxPooling1D, AveragePooling1D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
