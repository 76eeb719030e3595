"""How the explanation methods reach inside a model: walking its layers (nested models
included), finding the last convolution or the final layer, and probing a layer's input and
output during an ordinary forward pass.

A probe wraps one layer *instance*'s ``call`` for the duration of a ``with`` block and restores it
afterwards; the model's weights and structure are never changed. Because every layer of a
Sequential, functional or nested model is invoked through ``Layer.__call__`` -> ``self.call``,
this reaches layers at any depth, which a functional sub-model (``Model(inputs, layer.output)``)
cannot do for a layer that lives inside a nested model.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional, Union

from nnforge.layers import (Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, InputLayer, Layer,
                            SeparableConv2D)

_CONV_TYPES = (Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D)


def is_container(layer: Layer) -> bool:
    """True for a Sequential or functional model used as a layer (it has sub-layers to walk)."""
    return hasattr(type(layer), "layers") and isinstance(getattr(layer, "layers", None), list)


def walk(model: Layer) -> Iterator[Layer]:
    """Every leaf layer of ``model`` in call order, descending into nested models (input layers
    skipped)."""
    for layer in getattr(model, "layers", []):
        if isinstance(layer, InputLayer):
            continue
        if is_container(layer):
            yield from walk(layer)
        else:
            yield layer


def find_layer(model: Layer, layer: Union[str, Layer]) -> Layer:
    """The layer named ``layer`` (or ``layer`` itself), searched in nested models too."""
    if isinstance(layer, Layer):
        return layer
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a layer name or a Layer, got {type(layer).__name__}")
    for lay in walk(model):
        if lay.name == layer:
            return lay
    names = [lay.name for lay in walk(model)]
    raise ValueError(f"No layer named {layer!r} in model '{model.name}' (nested models "
                     f"searched); its layers are {names}")


def last_conv_layer(model: Layer) -> Layer:
    """The convolution layer (Conv1D/Conv2D and their variants) closest to the output."""
    convs = [lay for lay in walk(model) if isinstance(lay, _CONV_TYPES)]
    if not convs:
        raise ValueError(
            f"grad_cam: model '{model.name}' has no convolution layer (nested models searched); "
            f"pass layer=<name> to explain another layer's activations")
    return convs[-1]


def final_layer(model: Layer) -> Optional[Layer]:
    """The layer whose output is the model's output (descending into a nested model that comes
    last), or None for a subclassed model whose graph is not known."""
    layer: Layer = model
    while is_container(layer):
        outputs = getattr(layer, "_outputs_struct", None)
        if getattr(layer, "_is_functional", False) and outputs is not None:
            if isinstance(outputs, (list, tuple)):
                if len(outputs) != 1:
                    return None
                outputs = outputs[0]
            if isinstance(outputs, dict):
                return None
            layer = outputs._keras_history[0]
        else:
            subs = [lay for lay in layer.layers if not isinstance(lay, InputLayer)]
            if not subs:
                return None
            layer = subs[-1]
    return None if layer is model else layer


class Capture:
    """What a probe saw: the last call's inputs and output, and how many calls there were."""

    def __init__(self):
        self.inputs = None
        self.output = None
        self.calls = 0


@contextmanager
def probe(layer: Layer, replace: Optional[Callable] = None) -> Iterator[Capture]:
    """Record ``layer``'s inputs and output while the block runs.

    Args:
        layer: the layer instance to watch.
        replace: optional function applied to the layer's output; what it returns is passed on
            to the rest of the model (used to cut the tape at the layer: a fresh, watched tensor).
    """
    cap = Capture()
    original = layer.call
    had_own = "call" in layer.__dict__

    def call(inputs, *args, **kwargs):
        out = original(inputs, *args, **kwargs)
        if replace is not None:
            out = replace(out)
        cap.inputs, cap.output = inputs, out
        cap.calls += 1
        return out

    object.__setattr__(layer, "call", call)
    try:
        yield cap
    finally:
        if had_own:
            object.__setattr__(layer, "call", original)
        else:
            object.__delattr__(layer, "call")


def weighted_layers(model: Layer) -> List[Layer]:
    """Leaf layers that own weights, in call order."""
    return [lay for lay in walk(model) if lay.weights]
