"""Wrappers: Bidirectional (an RNN both ways) and TimeDistributed (a layer on every step)."""
from __future__ import annotations

import copy

from nnforge import ops
from nnforge.layers.node import flatten
from nnforge.saving.serialization import deserialize_layer, serialize_layer

from .layer import Layer


class Bidirectional(Layer):
    """Runs ``layer`` forwards and a copy of it backwards over the steps and merges the two
    outputs (``merge_mode``: 'concat' (default), 'sum', 'mul', 'ave' or None for a list)."""

    def __init__(self, layer, merge_mode: str = "concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if merge_mode not in ("concat", "sum", "mul", "ave", None):
            raise ValueError(f"Bidirectional '{self.name}': invalid merge_mode {merge_mode!r}")
        if not hasattr(layer, "go_backwards"):
            raise ValueError(f"Bidirectional '{self.name}': the wrapped layer must be a recurrent "
                             f"layer, got {type(layer).__name__}")
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = "backward_" + layer.name
            config["go_backwards"] = not layer.go_backwards
            backward_layer = type(layer).from_config(config)
        self.forward_layer = layer
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.supports_masking = True

    def build(self, input_shape) -> None:
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(input_shape)
                layer.built = True
        self.built = True

    def compute_output_shape(self, s):
        out = self.forward_layer.compute_output_shape(s)
        if isinstance(out, list):
            out = out[0]
        if self.merge_mode == "concat":
            return tuple(out[:-1]) + (None if out[-1] is None else 2 * out[-1],)
        if self.merge_mode is None:
            return [out, out]
        return out

    def call(self, inputs, mask=None, training=None):
        fwd = self.forward_layer(inputs, mask=mask, training=training)
        bwd = self.backward_layer(inputs, mask=mask, training=training)
        if self.return_sequences:
            bwd = ops.getitem(bwd, (slice(None), slice(None, None, -1)))  # back in time order
        if self.merge_mode == "concat":
            return ops.concatenate([fwd, bwd], axis=-1)
        if self.merge_mode == "sum":
            return ops.add(fwd, bwd)
        if self.merge_mode == "mul":
            return ops.multiply(fwd, bwd)
        if self.merge_mode == "ave":
            return ops.multiply(ops.add(fwd, bwd), 0.5)
        return [fwd, bwd]

    def compute_mask(self, inputs, previous_mask=None):
        return previous_mask if self.return_sequences else None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"layer": serialize_layer(self.forward_layer),
                       "backward_layer": serialize_layer(self.backward_layer),
                       "merge_mode": self.merge_mode})
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"))
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward)
        return cls(layer, backward_layer=backward, **config)


class TimeDistributed(Layer):
    """Applies ``layer`` to every step of a (batch, steps, ...) input, with shared weights."""

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(f"TimeDistributed '{self.name}': expected a Layer, got "
                             f"{type(layer).__name__}")
        self.layer = layer
        self.supports_masking = True

    def build(self, input_shape) -> None:
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}': the input needs at least 3 axes "
                             f"(batch, steps, ...), got shape {tuple(input_shape)}")
        inner = (None,) + tuple(input_shape[2:])
        if not self.layer.built:
            self.layer.build(inner)
            self.layer.built = True
        self.built = True

    def compute_output_shape(self, s):
        inner = self.layer.compute_output_shape((None,) + tuple(s[2:]))
        return (s[0], s[1]) + tuple(inner[1:])

    def call(self, inputs, training=None):
        shape = tuple(inputs.shape)
        n, steps = shape[0], shape[1]
        merged = ops.reshape(inputs, (n * steps,) + shape[2:])
        y = self.layer(merged, training=training)
        return ops.reshape(y, (n, steps) + tuple(y.shape[1:]))

    def get_config(self) -> dict:
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        return cls(deserialize_layer(config.pop("layer")), **config)
