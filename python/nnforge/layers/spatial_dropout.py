"""Spatial dropout: whole feature maps dropped together."""
from __future__ import annotations

from nnforge import ops

from .core_layers import Dropout


class SpatialDropout2D(Dropout):
    """Drops entire channels of an NHWC input in training (one mask value per sample and
    channel), scaling the rest by ``1 / (1 - rate)``."""

    def __init__(self, rate: float, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = "channels_last"

    def call(self, inputs, training=None):
        if len(inputs.shape) != 4:
            raise ValueError(f"SpatialDropout2D '{self.name}': expected a 4-D input, got "
                             f"{tuple(inputs.shape)}")
        if training and self.rate > 0:
            n, _, _, c = inputs.shape
            return ops.dropout(inputs, self.rate, self._rng, noise_shape=(n, 1, 1, c))
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("noise_shape", None)
        config["data_format"] = self.data_format
        return config
