"""``Sequential``: a plain stack of layers, each with one input and one output."""
from __future__ import annotations

from typing import List, Optional

from nnforge.core.tensor import KerasTensor
from nnforge.layers.input_layer import InputLayer
from nnforge.layers.layer import Layer, dtype_policy_config
from nnforge.saving.serialization import deserialize_layer, serialize_layer

from .inference_fusion import conv_pool_call, fusable_conv_pool
from .model import Model


class Sequential(Model):
    """A linear stack of layers (``keras.Sequential``).

    >>> model = nnforge.Sequential([
    ...     nnforge.Input(shape=(784,)),
    ...     nnforge.layers.Dense(128, activation="relu"),
    ...     nnforge.layers.Dense(10, activation="softmax"),
    ... ])

    The input shape may come from ``keras.Input`` as the first element, from ``input_shape=`` on
    the first layer, or from the first data the model sees.

    Args:
        layers: optional list of layers to add.
        name: the model's name.
    """

    def __init__(self, layers: Optional[list] = None, trainable: bool = True,
                 name: Optional[str] = None):
        Model.__init__(self, name=name, trainable=trainable)
        object.__setattr__(self, "_input_layer", None)
        self._last_symbolic: Optional[KerasTensor] = None
        object.__setattr__(self, "_layers", [])
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> List[Layer]:
        return list(self._layers)

    def add(self, layer, rebuild: bool = True) -> None:
        """Append a layer (or a ``keras.Input`` tensor, only as the first element)."""
        if isinstance(layer, KerasTensor):
            history = layer._keras_history
            if history is None or not isinstance(history[0], InputLayer):
                raise ValueError(f"Sequential '{self.name}': only tensors from keras.Input() can be "
                                 f"added, got {layer!r}")
            layer = history[0]
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential '{self.name}': expected a Layer instance, got "
                            f"{type(layer).__name__}: {layer!r}")
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(f"Sequential '{self.name}': an Input can only be the first "
                                 "element of the model")
            object.__setattr__(self, "_input_layer", layer)
            self._last_symbolic = layer.output_tensor
            return
        if any(layer is l for l in self._layers):
            raise ValueError(f"Sequential '{self.name}': layer '{layer.name}' was already added")
        names = {l.name for l in self._layers}
        if layer.name in names:
            raise ValueError(f"Sequential '{self.name}': all layers must have unique names; "
                             f"'{layer.name}' is already used")
        if not self._layers and self._input_layer is None and hasattr(layer,
                                                                      "_batch_input_shape"):
            object.__setattr__(self, "_input_layer", InputLayer(
                batch_shape=layer._batch_input_shape, dtype=layer.dtype))
            self._last_symbolic = self._input_layer.output_tensor
        self._layers.append(layer)
        if self._last_symbolic is not None:
            self._last_symbolic = layer(self._last_symbolic)
            self.built = True

    def pop(self) -> Layer:
        if not self._layers:
            raise TypeError(f"Sequential '{self.name}': there are no layers to pop")
        layer = self._layers.pop()
        self._rebuild_symbolic()
        return layer

    def _rebuild_symbolic(self) -> None:
        if self._input_layer is None:
            return
        x = self._input_layer.output_tensor
        for layer in self._layers:
            x = layer(x)
        self._last_symbolic = x
        self.built = True

    def build(self, input_shape=None) -> None:
        if self._input_layer is None:
            if input_shape is None:
                raise ValueError(f"Sequential '{self.name}': build needs an input shape")
            object.__setattr__(self, "_input_layer",
                               InputLayer(batch_shape=(None,) + tuple(input_shape)[1:]))
        self._rebuild_symbolic()
        self.built = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        layers, i = self._layers, 0
        while i < len(layers):
            layer = layers[i]
            # Conv2D + MaxPooling2D as one op (models/inference_fusion.py).
            if i + 1 < len(layers) and fusable_conv_pool(layer, layers[i + 1]):
                y = conv_pool_call(layer, layers[i + 1], x)
                if y is not None:
                    x, i = y, i + 2
                    continue
            x = layer(x, training=training)
            i += 1
        return x

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def _input_dtypes(self) -> list:
        return [self._input_layer.dtype] if self._input_layer is not None and not getattr(
            self._layers[0] if self._layers else None, "_integer_inputs", False) else []

    @property
    def inputs(self):
        """[the input tensor] once the input shape is known, else None (read-only)."""
        return [self._input_layer.output_tensor] if self._input_layer is not None else None

    @property
    def outputs(self):
        """[the output tensor] once the input shape is known, else None (read-only)."""
        return [self._last_symbolic] if self._last_symbolic is not None else None

    @property
    def input_shape(self):
        if self._input_layer is None:
            raise AttributeError(f"Sequential '{self.name}' has no defined input shape yet")
        return self._input_layer.batch_shape

    @property
    def output_shape(self):
        if self._last_symbolic is None:
            raise AttributeError(f"Sequential '{self.name}' has no defined output shape yet")
        return self._last_symbolic.shape

    @property
    def input_names(self):
        return [self._input_layer.name] if self._input_layer is not None else []

    @property
    def output_names(self):
        return [self._layers[-1].name] if self._layers else []

    def _flat_inputs(self, inputs):
        return [inputs]

    def get_config(self) -> dict:
        layers = []
        if self._input_layer is not None:
            layers.append(serialize_layer(self._input_layer))
        layers += [serialize_layer(l) for l in self._layers]
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policy_config(self.dtype), "layers": layers}
        if self._input_layer is not None:
            config["build_input_shape"] = list(self._input_layer.batch_shape)
        return config

    @classmethod
    def from_config(cls, config: dict):
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for lc in config.get("layers", []):
            model.add(deserialize_layer(lc))
        if model._input_layer is None and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model
