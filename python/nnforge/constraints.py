"""Weight constraints (``keras.constraints``), applied after each optimizer update."""
from __future__ import annotations

import numpy as np

from nnforge import backend
from nnforge.saving.keras_saveable import KerasSaveable
from nnforge.saving.serialization import (deserialize_family_object, get_family_object,
                                          serialize_keras_object)


class Constraint(KerasSaveable):
    """Maps a weight array to its constrained value (backend arrays in, out)."""

    _keras_module = "keras.constraints"

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class MaxNorm(Constraint):
    def __init__(self, max_value: float = 2.0, axis: int = 0):
        self.max_value, self.axis = float(max_value), axis

    def __call__(self, w):
        xp = backend.of(w).xp
        norms = xp.sqrt((w * w).sum(axis=self.axis, keepdims=True))
        desired = xp.clip(norms, 0, self.max_value)
        return w * (desired / (np.float32(1e-7) + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    def __call__(self, w):
        return w * (w >= 0)


class UnitNorm(Constraint):
    def __init__(self, axis: int = 0):
        self.axis = axis

    def __call__(self, w):
        xp = backend.of(w).xp
        return w / (np.float32(1e-7) + xp.sqrt((w * w).sum(axis=self.axis, keepdims=True)))

    def get_config(self):
        return {"axis": self.axis}



class MinMaxNorm(Constraint):
    """Keeps the norm of each slice along ``axis`` between ``min_value`` and ``max_value``
    (``keras.constraints.MinMaxNorm``), moving it a fraction ``rate`` of the way:
    ``w * (rate * clip(n, min, max) + (1 - rate) * n) / (eps + n)``.

    Args:
        min_value: the smallest norm.
        max_value: the largest norm.
        rate: 1.0 enforces the bounds exactly; less moves towards them gradually.
        axis: the axis (or axes) the norms are taken over (0: per output unit of a Dense
            kernel).

    Example:

    >>> layer = nnforge.layers.Dense(8, kernel_constraint=MinMaxNorm(0.5, 1.0))
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        xp = backend.of(w).xp
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        norms = xp.sqrt((w * w).sum(axis=axis, keepdims=True))
        f = np.float32
        desired = f(self.rate) * xp.clip(norms, f(self.min_value), f(self.max_value)) + \
            f(1 - self.rate) * norms
        return w * (desired / (f(1e-7) + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}

max_norm, non_neg, unit_norm = MaxNorm, NonNeg, UnitNorm
min_max_norm = MinMaxNorm
_NAMES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "MaxNorm": MaxNorm,
          "NonNeg": NonNeg, "UnitNorm": UnitNorm, "min_max_norm": MinMaxNorm,
          "MinMaxNorm": MinMaxNorm}


def _class_named(name: str) -> type:
    if name not in _NAMES:
        raise ValueError(f"Unknown constraint {name!r}")
    return _NAMES[name]


def get(identifier):
    """The constraint for a name, a config dict, an instance or a callable
    (``keras.constraints.get``); None stays None.

    Args:
        identifier: None, a constraint, a name (``"max_norm"``, ...), a serialized dict or a
            callable.

    Returns:
        The constraint (a name gives a new instance with the default arguments).

    Example:

    >>> nnforge.constraints.get("max_norm")
    """
    return get_family_object(identifier, Constraint, _class_named, "keras.constraints",
                             "constraint")


def serialize(c):
    """The serialized form of a constraint (None stays None)."""
    return serialize_keras_object(c)


def deserialize(config, custom_objects=None):
    """A constraint from its serialized form (``keras.constraints.deserialize``).

    Args:
        config: a config dict or a name ("max_norm", "min_max_norm", ...).
        custom_objects: name -> class entries for user-defined constraints.

    Returns:
        The constraint.

    Example:

    >>> nnforge.constraints.deserialize({"class_name": "MinMaxNorm", "config": {}})
    """
    return deserialize_family_object(config, get, custom_objects, "keras.constraints",
                                     "constraint")
