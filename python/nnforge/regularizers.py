"""Weight regularizers (``keras.regularizers``): penalties added to the training loss."""
from __future__ import annotations

from nnforge import ops
from nnforge.saving.keras_saveable import KerasSaveable
from nnforge.saving.serialization import deserialize_keras_object, serialize_keras_object


class Regularizer(KerasSaveable):
    """Base class: ``regularizer(weight)`` returns the penalty added to the loss."""

    _keras_module = "keras.regularizers"

    def __call__(self, x):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x^2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        if l1 < 0 or l2 < 0:
            raise ValueError(f"L1L2: factors must be non-negative, got l1={l1}, l2={l2}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        total = 0.0
        if self.l1:
            total = ops.multiply(self.l1, ops.sum(ops.abs(x)))
        if self.l2:
            t = ops.multiply(self.l2, ops.sum(ops.square(x)))
            total = t if isinstance(total, float) else ops.add(total, t)
        return total

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _NAMES:
            raise ValueError(f"Unknown regularizer {identifier!r}")
        return _NAMES[identifier]()
    if isinstance(identifier, dict):
        return deserialize_keras_object(identifier, module="keras.regularizers",
                                        kind="regularizer")
    if callable(identifier):
        return identifier
    raise TypeError(f"Could not interpret regularizer {identifier!r}")


def serialize(reg):
    """The serialized form of a regularizer (None stays None)."""
    return serialize_keras_object(reg)
