"""Small core layers: Flatten, Activation, Dropout."""
from __future__ import annotations

import math

import numpy as np

from nnforge import activations, ops, random_state

from .layer import Layer


class Flatten(Layer):
    """Flattens the input, keeping the batch dimension: ``(batch, ...) -> (batch, prod(...))``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = "channels_last"

    def call(self, inputs):
        shape = tuple(inputs.shape)
        if len(shape) == 0:
            raise ValueError(f"Flatten '{self.name}': cannot flatten a scalar")
        # math.prod, not np.prod: a NumPy reduction's first call after a large kernel costs
        # ~25 us of cold caches in a training step, Python's integer product ~0.1 us.
        return ops.reshape(inputs, (shape[0], math.prod(int(d) for d in shape[1:])))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest, dtype=np.int64))
        return (input_shape[0], size)

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Activation(Layer):
    """Applies an activation function (name or callable) to its input."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Randomly zeroes a fraction ``rate`` of the inputs during training, scaling the rest by
    ``1 / (1 - rate)``; the identity at inference.

    Args:
        rate: float in [0, 1), the fraction of inputs to drop.
        noise_shape: optional shape of the binary mask (None entries follow the input).
        seed: optional integer seed.
    """

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"Dropout '{self.name}': rate must be a float in [0, 1), got "
                             f"{rate!r}")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._rng = random_state.make_rng(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            return ops.dropout(inputs, self.rate, self._rng, self.noise_shape)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config
