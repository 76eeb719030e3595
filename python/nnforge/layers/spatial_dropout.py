"""Spatial dropout: whole feature maps dropped together."""
from __future__ import annotations

from nnforge import ops
from nnforge.utils.argument_validation import standardize_data_format

from .core_layers import Dropout


class _SpatialDropout(Dropout):
    """Dropout of whole channels of a channels_last input of rank ``_RANK``: one mask value
    per sample and channel, shared by every position (the SpatialDropout layers' ``call``
    and config, which has no ``noise_shape``)."""

    _RANK = 0
    _AXES = ""  # the input's axes, as the rank error names them

    def call(self, inputs, training=None):
        shape = tuple(inputs.shape)
        if len(shape) != self._RANK:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected a {self._RANK}-D "
                             f"input{self._AXES}, got {shape}")
        if training and self.rate > 0:
            noise_shape = (shape[0],) + (1,) * (self._RANK - 2) + (shape[-1],)
            return ops.dropout(inputs, self.rate, self._rng, noise_shape=noise_shape)
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("noise_shape", None)
        return config


class SpatialDropout2D(_SpatialDropout):
    """Drops entire channels of an NHWC input in training (one mask value per sample and
    channel), scaling the rest by ``1 / (1 - rate)``."""

    _RANK = 4

    def __init__(self, rate: float, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = "channels_last"

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
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

    _RANK = 3
    _AXES = " (batch, steps, channels)"

    def __init__(self, rate: float, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)



class SpatialDropout3D(_SpatialDropout):
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

    _RANK = 5
    _AXES = " (batch, depth, height, width, channels)"

    def __init__(self, rate: float, data_format=None, seed=None, name=None, dtype=None,
                 **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = standardize_data_format(data_format,
                                                   f"SpatialDropout3D '{self.name}'")

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config
