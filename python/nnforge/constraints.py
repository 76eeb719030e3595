"""Weight constraints (``keras.constraints``), applied after each optimizer update."""
from __future__ import annotations

import numpy as np

from nnforge import backend
from nnforge.saving.keras_saveable import KerasSaveable
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object


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


max_norm, non_neg, unit_norm = MaxNorm, NonNeg, UnitNorm
_NAMES = {"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "MaxNorm": MaxNorm,
          "NonNeg": NonNeg, "UnitNorm": UnitNorm}


def get(identifier):
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            raise ValueError(f"Unknown constraint {identifier!r}")
        return _NAMES[identifier]()
    if isinstance(identifier, dict):
        return deserialize_keras_object(identifier, module="keras.constraints",
                                        kind="constraint")
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret constraint {identifier!r}")


def serialize(c):
    """The serialized form of a constraint (None stays None)."""
    return serialize_keras_object(c)
