"""Regularization layers active in training only: ``GaussianNoise``, ``GaussianDropout``,
``AlphaDropout``; and ``ActivityRegularization`` (a loss on the activity, identity output)."""
from __future__ import annotations

import math

import numpy as np

from nnforge import backend, ops, random_state, regularizers
from nnforge.core.tape import record

from .layer import Layer


def _check_rate(layer, name: str, value) -> None:
    if not 0 <= value <= 1:
        raise ValueError(f"Invalid value received for argument `{name}`. Expected a float value "
                         f"between 0 and 1. Received: {name}={value}")


class _Noise(Layer):
    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = random_state.make_rng(seed)
        self.supports_masking = True
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape

    def _scaled(self, inputs, noise, add: bool):
        """``inputs + noise`` or ``inputs * noise`` (noise drawn on the CPU, moved to the
        inputs' device), differentiable in ``inputs``."""
        x = ops.convert_to_tensor(inputs)
        be = backend.of(x.data)
        n = be.asarray(noise.astype(np.float32))
        if add:
            return record(x.data + n, (x,), lambda g, needs: (g,))
        return record(x.data * n, (x,), lambda g, needs: (g * n,))


class GaussianNoise(_Noise):
    """Adds zero-centered Gaussian noise of standard deviation ``stddev`` in training
    (``keras.layers.GaussianNoise``); the identity at inference.

    Args:
        stddev: standard deviation of the noise, in [0, 1].
        seed: optional integer seed.

    Example:

    >>> GaussianNoise(0.1)(np.ones((2, 2), "float32")).numpy()
    array([[1., 1.],
           [1., 1.]], dtype=float32)
    """

    def __init__(self, stddev: float, seed=None, **kwargs):
        _check_rate(self, "stddev", stddev)
        super().__init__(seed=seed, **kwargs)
        self.stddev = stddev

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            noise = self._rng.normal(0.0, self.stddev, size=tuple(inputs.shape))
            return self._scaled(inputs, noise, add=True)
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_Noise):
    """Multiplies the inputs by 1-centered Gaussian noise of standard deviation
    ``sqrt(rate / (1 - rate))`` in training (``keras.layers.GaussianDropout``).

    Args:
        rate: the drop probability it imitates, in [0, 1].
        seed: optional integer seed.

    Example:

    >>> GaussianDropout(0.2)(np.ones((1, 3), "float32")).numpy()
    array([[1., 1., 1.]], dtype=float32)
    """

    def __init__(self, rate: float, seed=None, **kwargs):
        _check_rate(self, "rate", rate)
        super().__init__(seed=seed, **kwargs)
        self.rate = rate

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            noise = self._rng.normal(1.0, stddev, size=tuple(inputs.shape))
            return self._scaled(inputs, noise, add=False)
        return inputs

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(_Noise):
    """Dropout that keeps the mean and variance of its inputs, for SELU networks
    (``keras.layers.AlphaDropout``): dropped units are set to ``-alpha * scale`` of SELU and
    the result is affinely rescaled, in training only.

    Args:
        rate: drop probability, in [0, 1].
        noise_shape: optional shape of the keep mask (None entries follow the input).
        seed: optional integer seed.

    Example:

    >>> AlphaDropout(0.2)(np.ones((1, 3), "float32")).numpy()
    array([[1., 1., 1.]], dtype=float32)
    """

    def __init__(self, rate: float, noise_shape=None, seed=None, **kwargs):
        _check_rate(self, "rate", rate)
        super().__init__(seed=seed, **kwargs)
        self.rate = rate
        self.noise_shape = noise_shape

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        shape = tuple(inputs.shape)
        if self.noise_shape is not None:
            shape = tuple(shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        alpha = 1.6732632423543772848170429916717
        scale = 1.0507009873554804934193349852946
        alpha_p = -alpha * scale
        kept = (self._rng.random(shape, dtype=np.float32) >= self.rate).astype(np.float32)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        x = ops.convert_to_tensor(inputs)
        be = backend.of(x.data)
        keep = be.asarray(kept)
        shift = be.asarray((a * alpha_p * (1 - kept) + b).astype(np.float32))
        mult = keep * np.float32(a)
        return record(x.data * mult + shift, (x,), lambda g, needs: (g * mult,))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class ActivityRegularization(Layer):
    """Returns its input and adds ``l1 * sum(|x|) + l2 * sum(x^2)`` to the layer's losses
    (``keras.layers.ActivityRegularization``).

    Args:
        l1: L1 regularization factor.
        l2: L2 regularization factor.

    Example:

    >>> layer = ActivityRegularization(l1=0.1)
    >>> _ = layer(np.ones((1, 3), "float32"))
    >>> float(layer.losses[0])
    0.3...
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
