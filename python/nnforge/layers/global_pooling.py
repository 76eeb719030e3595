"""Global average and max pooling over the steps of (batch, steps, channels) inputs (masks
respected) and over the spatial axes of NHWC inputs."""
from __future__ import annotations

import numpy as np

from nnforge import ops

from .layer import Layer


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


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims: bool = False, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{type(self).__name__} '{self.name}': only channels_last is "
                             "supported")
        self.data_format = "channels_last"
        self.keepdims = keepdims

    def compute_output_shape(self, s):
        if len(s) != 4:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a 4-D input, got "
                             f"{tuple(s)}")
        return (s[0], 1, 1, s[3]) if self.keepdims else (s[0], s[3])

    def call(self, inputs):
        self.compute_output_shape(tuple(inputs.shape))
        return type(self)._reduce(inputs, axis=(1, 2), keepdims=self.keepdims)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Mean over height and width: (batch, H, W, C) -> (batch, C)."""

    _reduce = staticmethod(ops.mean)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Max over height and width: (batch, H, W, C) -> (batch, C)."""

    _reduce = staticmethod(ops.max)


GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalAvgPool1D, GlobalMaxPool1D = GlobalAveragePooling1D, GlobalMaxPooling1D
