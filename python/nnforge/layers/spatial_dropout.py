"""Spatial dropout: whole feature maps dropped together."""
from __future__ import annotations

from nnforge import ops
from nnforge.utils.argument_validation import standardize_data_format

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


class SpatialDropout1D(Dropout):
    """Drops entire channels of a (batch, steps, channels) input in training
    (``keras.layers.SpatialDropout1D``): one mask value per sample and channel, shared by every
    step; the rest is scaled by ``1 / (1 - rate)``. The identity at inference.

    Args:
        rate: float in [0, 1), the fraction of channels to drop.
        seed: optional integer seed.

    Example:

    >>> layer = nnforge.layers.SpatialDropout1D(0.5, seed=1)
    >>> y = layer(np.ones((2, 4, 3), "float32"), training=True).numpy()
    >>> bool((y == y[:, :1]).all())
    True
    """

    def __init__(self, rate: float, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)

    def call(self, inputs, training=None):
        if len(inputs.shape) != 3:
            raise ValueError(f"SpatialDropout1D '{self.name}': expected a 3-D input (batch, "
                             f"steps, channels), got {tuple(inputs.shape)}")
        if training and self.rate > 0:
            n, _, c = inputs.shape
            return ops.dropout(inputs, self.rate, self._rng, noise_shape=(n, 1, c))
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("noise_shape", None)
        return config


class SpatialDropout3D(Dropout):
    """Drops entire channels of a (batch, depth, height, width, channels) input in training
    (``keras.layers.SpatialDropout3D``): one mask value per sample and channel; the rest is
    scaled by ``1 / (1 - rate)``. The identity at inference.

    Args:
        rate: float in [0, 1), the fraction of channels to drop.
        data_format: None or ``"channels_last"``.
        seed: optional integer seed.

    Example:

    >>> layer = nnforge.layers.SpatialDropout3D(0.5, seed=1)
    >>> layer(np.ones((2, 2, 2, 2, 3), "float32"), training=True).shape
    (2, 2, 2, 2, 3)
    """

    def __init__(self, rate: float, data_format=None, seed=None, name=None, dtype=None,
                 **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = standardize_data_format(data_format,
                                                   f"SpatialDropout3D '{self.name}'")

    def call(self, inputs, training=None):
        if len(inputs.shape) != 5:
            raise ValueError(f"SpatialDropout3D '{self.name}': expected a 5-D input (batch, "
                             f"depth, height, width, channels), got {tuple(inputs.shape)}")
        if training and self.rate > 0:
            n, c = inputs.shape[0], inputs.shape[4]
            return ops.dropout(inputs, self.rate, self._rng, noise_shape=(n, 1, 1, 1, c))
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("noise_shape", None)
        config["data_format"] = self.data_format
        return config
