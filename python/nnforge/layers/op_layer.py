"""``OpLayer``: an ``nnforge.ops`` function called on symbolic tensors, as one node of a
functional model (Keras 3 makes the same automatic layers for ``ops.*`` on KerasTensors)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from nnforge.core.tape import stop_recording
from nnforge.core.tensor import KerasTensor
from nnforge.ops import _symbolic

from .layer import Layer
from .node import map_structure


def _concrete(structure, size: int):
    """KerasTensors replaced by zero arrays, their unknown dimensions set to ``size``."""
    def conv(t):
        if isinstance(t, KerasTensor):
            return np.zeros(tuple(size if d is None else d for d in t.shape),
                            dtype=np.dtype(t.dtype))
        return t
    return map_structure(conv, structure)


class OpLayer(Layer):
    """One call of an op on KerasTensors, recorded as a layer of the functional graph.

    The output shape is found by running the op on zeros twice, with the unknown dimensions
    set to two different sizes: an output dimension that changes between the runs is unknown
    (None).

    Args:
        fn: the op (an ``nnforge.ops`` function).
        op_name: its name (the layer is named after it).
        args, kwargs: the call's arguments, KerasTensors included.

    Example:

    >>> a, b = nnforge.Input((3,)), nnforge.Input((3,))
    >>> c = nnforge.ops.concatenate([a, b], axis=-1)  # an OpLayer's output, shape (None, 6)
    """

    def __init__(self, fn: Callable, op_name: str, args: tuple, kwargs: dict, **layer_kwargs):
        from nnforge import naming
        layer_kwargs.setdefault("name", naming.unique_name(op_name))
        super().__init__(**layer_kwargs)
        self.fn = fn
        self.op_name = op_name
        self.built = True
        with stop_recording():
            first = fn(*_concrete(args, 2), **_concrete(kwargs, 2))
            second = fn(*_concrete(args, 3), **_concrete(kwargs, 3))
        shapes = map_structure(lambda t: tuple(np.shape(getattr(t, "data", t))), first)
        shapes2 = map_structure(lambda t: tuple(np.shape(getattr(t, "data", t))), second)
        self._output_shape = self._merge(shapes, shapes2)
        self._output_dtypes = map_structure(
            lambda t: str(getattr(t, "dtype", "float32")), first)

    @staticmethod
    def _merge(a, b):
        if isinstance(a, tuple) and all(isinstance(d, int) for d in a):
            return tuple(None if x != y else x for x, y in zip(a, b))
        if isinstance(a, (list, tuple)):
            return [OpLayer._merge(x, y) for x, y in zip(a, b)]
        if isinstance(a, dict):
            return {k: OpLayer._merge(a[k], b[k]) for k in a}
        return a

    def call(self, *args, **kwargs) -> Any:
        kwargs.pop("training", None)
        kwargs.pop("mask", None)
        return self.fn(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        return self._output_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["function"] = self.op_name
        return config

    @classmethod
    def from_config(cls, config: dict):
        raise ValueError(
            f"OpLayer '{config.get('name')}' (ops.{config.get('function')} on symbolic tensors) "
            "cannot be rebuilt from its config: wrap the op in a Layer subclass to save the "
            "model's architecture")


def _symbolic_op(fn: Callable, name: str, args: tuple, kwargs: dict):
    if not args:
        raise ValueError(f"ops.{name}: called with keyword arguments only on symbolic tensors")
    layer = OpLayer(fn, name, args, kwargs)
    out = layer(*args, **kwargs)

    def set_dtype(t, d):
        if isinstance(t, KerasTensor):
            t.dtype = d
        return t
    if isinstance(out, KerasTensor):
        return set_dtype(out, layer._output_dtypes)
    if isinstance(out, list) and isinstance(layer._output_dtypes, (list, tuple)):
        for t, d in zip(out, layer._output_dtypes):
            set_dtype(t, d)
    return out


_symbolic.set_symbolic_handler(_symbolic_op)
