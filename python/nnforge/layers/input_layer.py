"""``Input`` and ``InputLayer``: the entry points of a functional model."""
from __future__ import annotations

from typing import Optional, Sequence

from nnforge.core.tensor import KerasTensor

from .layer import Layer, dtype_policy_config
from .node import Node


class InputLayer(Layer):
    """The layer behind ``keras.Input``: it only holds the shape of the model's input.

    Args:
        shape: shape of one sample, without the batch dimension.
        batch_size: optional fixed batch size.
        dtype: dtype of the input data.
        name: optional name.
    """

    def __init__(self, shape: Optional[Sequence[int]] = None, batch_size: Optional[int] = None,
                 dtype=None, sparse=None, batch_shape=None, input_tensor=None,
                 name: Optional[str] = None, **kwargs):
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs and batch_shape is None:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("ragged", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer: pass `shape` (the shape of one sample)")
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        for d in batch_shape[1:]:
            if d is not None and (not isinstance(d, int) or d < 0):
                raise ValueError(f"InputLayer '{self.name}': shape entries must be non-negative "
                                 f"ints or None, got {tuple(batch_shape[1:])}")
        self._batch_shape = tuple(batch_shape)
        self.built = True
        tensor = KerasTensor(self._batch_shape, dtype=self.dtype, name=self.name,
                             history=(self, 0, 0))
        self._inbound_nodes.append(Node(self, (), {}, tensor))
        self.output_tensor = tensor

    def get_build_config(self):
        """None: an input layer is built by its shape, which its config already holds."""
        return None

    @property
    def batch_shape(self):
        return self._batch_shape

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {"batch_shape": list(self._batch_shape), "dtype": self.dtype, "sparse": False,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if "batch_input_shape" in config:
            config["batch_shape"] = config.pop("batch_input_shape")
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name")
        config.pop("ragged", None)
        config.pop("optional", None)
        return cls(batch_shape=tuple(config.pop("batch_shape")), **config)


def Input(shape: Optional[Sequence[int]] = None, batch_size: Optional[int] = None, dtype=None,
          sparse=None, batch_shape=None, name: Optional[str] = None, tensor=None,
          optional: bool = False) -> KerasTensor:
    """A symbolic input tensor for the functional API (``keras.Input``).

    >>> inputs = nnforge.Input(shape=(784,))
    >>> outputs = nnforge.layers.Dense(10)(inputs)
    >>> model = nnforge.Model(inputs, outputs)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name)
    return layer.output_tensor
