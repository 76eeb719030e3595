"""Weight initializers (``keras.initializers``) drawing from nnforge's random state."""
from __future__ import annotations

import math
from typing import Optional, Tuple

import numpy as np

from nnforge import random_state
from nnforge.saving.keras_saveable import KerasSaveable
from nnforge.saving.object_registration import register_builtin as _register_builtin
from nnforge.saving.serialization import (deserialize_family_object, get_family_object,
                                          serialize_keras_object)


def _fans(shape: Tuple[int, ...]) -> Tuple[float, float]:
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = float(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer(KerasSaveable):
    """Base class: ``init(shape, dtype)`` returns a NumPy array."""

    _keras_module = "keras.initializers"

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    # Keras 3 writes these for its variance-scaling initializers; nnforge derives the fans from
    # the shape, which is what they default to (None).
    _KERAS_ONLY_KEYS = ("input_axes", "output_axes")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**cls._without_keras_only_keys(config))


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape, dtype="float32"):
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class Zeros(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.ones(shape, dtype=dtype)


class _Random(Initializer):
    def __init__(self, seed: Optional[int] = None):
        self.seed = seed

    def _rng(self):
        return random_state.make_rng(self.seed)

    def get_config(self):
        return {"seed": self.seed}


class RandomUniform(_Random):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype="float32"):
        return self._rng().uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Random):
    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype="float32"):
        return self._rng().normal(self.mean, self.stddev, shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype="float32"):
        rng = self._rng()
        out = rng.normal(0.0, 1.0, shape)
        bad = np.abs(out) > 2
        while bad.any():
            out[bad] = rng.normal(0.0, 1.0, int(bad.sum()))
            bad = np.abs(out) > 2
        return (self.mean + self.stddev * out).astype(dtype)


class VarianceScaling(_Random):
    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0:
            raise ValueError(f"VarianceScaling: scale must be positive, got {scale}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: invalid mode {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform", "normal"):
            raise ValueError(f"VarianceScaling: invalid distribution {distribution!r}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, n)
        rng = self._rng()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return rng.uniform(-limit, limit, shape).astype(dtype)
        if self.distribution == "truncated_normal":
            std = math.sqrt(scale) / 0.87962566103423978
            return TruncatedNormal(0.0, std, seed=int(rng.integers(2**62)))(shape, dtype)
        return rng.normal(0.0, math.sqrt(scale), shape).astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


def _named(name, scale, mode, distribution):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}
    # Created under its final name, so that it registers as keras.initializers>{name}.
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__qualname__": name})


GlorotUniform = _named("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _named("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _named("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _named("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _named("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _named("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(_Random):
    def __init__(self, gain: float = 1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype="float32"):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: shape must be at least 2-D, got {shape}")
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        a = self._rng().normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_uniform": RandomUniform,
    "random_normal": RandomNormal, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
}
_CLASSES = {c.__name__: c for c in set(_ALIASES.values())}

zeros, ones, constant = Zeros, Ones, Constant
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal, lecun_uniform, lecun_normal = HeUniform, HeNormal, LecunUniform, LecunNormal
random_uniform, random_normal, truncated_normal, orthogonal = (RandomUniform, RandomNormal,
                                                               TruncatedNormal, Orthogonal)


# ---- Identity, STFT (initializers_extra.py) and Keras's other names ----
from nnforge.initializers_extra import STFT, Identity  # noqa: E402  (needs Initializer)
IdentityInitializer = identity = Identity
STFTInitializer = stft = STFT
OrthogonalInitializer = Orthogonal
Orthogonal._keras_aliases = ("OrthogonalInitializer",)
_register_builtin(Orthogonal)
variance_scaling = VarianceScaling
_ALIASES.update({"identity": Identity, "stft": STFT})
_CLASSES.update({"Identity": Identity, "IdentityInitializer": Identity, "STFT": STFT,
                 "STFTInitializer": STFT, "OrthogonalInitializer": Orthogonal})


def _class_named(name: str) -> type:
    cls = _ALIASES.get(name.lower()) or _CLASSES.get(name)
    if cls is None:
        raise ValueError(f"Unknown initializer {name!r}; known: {sorted(_ALIASES)}")
    return cls


def get(identifier) -> Initializer:
    """The initializer for a name, a config dict, an instance or a callable
    (``keras.initializers.get``); None stays None.

    Args:
        identifier: None, an initializer, a name (``"glorot_uniform"``, ``"Zeros"``, ...), a
            serialized dict or a callable.

    Returns:
        The initializer (a name gives a new instance with the default arguments).

    Example:

    >>> nnforge.initializers.get("he_normal")
    """
    return get_family_object(identifier, Initializer, _class_named, "keras.initializers",
                             "initializer")


def serialize(init) -> dict:
    """The serialized form of an initializer (through the registry)."""
    return serialize_keras_object(init)


def deserialize(config, custom_objects=None):
    """An initializer from its serialized form (``keras.initializers.deserialize``).

    Args:
        config: a config dict (``{"class_name": ..., "config": ...}``) or a name.
        custom_objects: name -> class entries for user-defined initializers.

    Returns:
        The initializer.

    Example:

    >>> nnforge.initializers.deserialize({"class_name": "Identity", "config": {"gain": 2.0}})
    """
    return deserialize_family_object(config, get, custom_objects, "keras.initializers",
                                     "initializer")
