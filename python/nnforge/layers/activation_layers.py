"""Activation layers: ReLU, LeakyReLU, ELU, Softmax."""
from __future__ import annotations

from typing import Optional

from nnforge import activations, ops

from .layer import Layer


class _ActivationLayer(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_ActivationLayer):
    """``max(x, 0)``, with an optional cap ``max_value``, a slope ``negative_slope`` below
    ``threshold``."""

    def __init__(self, max_value: Optional[float] = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU '{self.name}': max_value must be >= 0, got {max_value}")
        if negative_slope < 0:
            raise ValueError(f"ReLU '{self.name}': negative_slope must be >= 0, got "
                             f"{negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs):
        if self.threshold == 0.0:
            return activations.relu(inputs, negative_slope=self.negative_slope,
                                    max_value=self.max_value)
        shifted = ops.subtract(inputs, self.threshold)
        pos = ops.where(ops.greater(inputs, self.threshold).data, inputs,
                        ops.multiply(shifted, self.negative_slope))
        return ops.minimum(pos, self.max_value) if self.max_value is not None else pos

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_ActivationLayer):
    """``x`` for x > 0, ``negative_slope * x`` otherwise (default slope 0.3, as Keras)."""

    def __init__(self, negative_slope: float = 0.3, **kwargs):
        kwargs.pop("alpha", None)
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self) -> dict:
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(_ActivationLayer):
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise."""

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return ops.elu(inputs, self.alpha)

    def get_config(self) -> dict:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class Softmax(_ActivationLayer):
    """Softmax over ``axis`` (default -1)."""

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        return ops.softmax(inputs, axis=self.axis)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config
