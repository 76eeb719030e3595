"""Weight regularizers (``keras.regularizers``): penalties added to the training loss."""
from __future__ import annotations

from nnforge import ops
from nnforge.saving.keras_saveable import KerasSaveable
from nnforge.saving.serialization import (deserialize_family_object, get_family_object,
                                          serialize_keras_object)


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



class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards orthogonality
    (``keras.regularizers.OrthogonalRegularizer``): ``factor * 0.5 * sum(|P - diag(P)|) /
    (n (n - 1) / 2)`` with ``P`` the Gram matrix of the L2-normalised rows (columns).

    Args:
        factor: the penalty's weight (default 0.01).
        mode: ``"rows"`` or ``"columns"``.

    Example:

    >>> layer = nnforge.layers.Dense(8, kernel_regularizer=OrthogonalRegularizer(0.1, "columns"))
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 0:
            raise ValueError("OrthogonalRegularizer: invalid value for argument factor: "
                             f"expected a non-negative float, received: factor={factor}")
        if mode not in ("rows", "columns"):
            raise ValueError("OrthogonalRegularizer: invalid value for argument `mode`. "
                             f'Expected one of {{"rows", "columns"}}. Received: mode={mode}')
        self.factor, self.mode = float(factor), mode

    def __call__(self, x):
        import numpy as np
        if len(x.shape) != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={tuple(x.shape)}")
        axis = 1 if self.mode == "rows" else 0
        inv = ops.minimum(ops.divide(1.0, ops.sqrt(ops.sum(ops.square(x), axis=axis,
                                                           keepdims=True))), 1e7)
        x = ops.multiply(x, inv)
        if self.mode == "rows":
            product, size = ops.matmul(x, ops.transpose(x)), x.shape[0]
        else:
            product, size = ops.matmul(ops.transpose(x), x), x.shape[1]
        off = ops.multiply(product, (1.0 - np.eye(size)).astype(np.float32))
        pairs = size * (size - 1.0) / 2.0
        return ops.divide(ops.multiply(self.factor * 0.5, ops.sum(ops.abs(off))), pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}

l1, l2, l1_l2 = L1, L2, L1L2
orthogonal_regularizer = OrthogonalRegularizer
_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2,
          "orthogonal_regularizer": OrthogonalRegularizer,
          "OrthogonalRegularizer": OrthogonalRegularizer}


def _class_named(name: str) -> type:
    if name not in _NAMES:
        raise ValueError(f"Unknown regularizer {name!r}")
    return _NAMES[name]


def get(identifier):
    """The regularizer for a name, a config dict, an instance or a callable
    (``keras.regularizers.get``); None stays None.

    Args:
        identifier: None, a regularizer, a name (``"l2"``, ...), a serialized dict or a callable.

    Returns:
        The regularizer (a name gives a new instance with the default arguments).

    Example:

    >>> nnforge.regularizers.get("l2")
    """
    return get_family_object(identifier, Regularizer, _class_named, "keras.regularizers",
                             "regularizer")


def serialize(reg):
    """The serialized form of a regularizer (None stays None)."""
    return serialize_keras_object(reg)


def deserialize(config, custom_objects=None):
    """A regularizer from its serialized form (``keras.regularizers.deserialize``).

    Args:
        config: a config dict or a name ("l2", "orthogonal_regularizer", ...).
        custom_objects: name -> class entries for user-defined regularizers.

    Returns:
        The regularizer.

    Example:

    >>> nnforge.regularizers.deserialize(nnforge.regularizers.serialize(L2(0.1)))
    """
    return deserialize_family_object(config, get, custom_objects, "keras.regularizers",
                                     "regularizer")
