"""The layer graph of a built model, as one list of layer calls in execution order.

``Sequential`` and functional models keep their graphs differently (a list of layers; a list of
``Node``s); the tools that draw, log or export a model (``plot_model``, ``callbacks.TensorBoard``,
``model.export``) read both through ``model_nodes``."""
from __future__ import annotations

from typing import TYPE_CHECKING, List

if TYPE_CHECKING:  # utils must not import layers at run time (layers may import utils)
    from nnforge.layers.node import Node


def is_graph_model(layer) -> bool:
    """True for a model whose layer graph ``model_nodes`` can read (Sequential or functional)."""
    return bool(getattr(layer, "_is_functional", False)) or (
        hasattr(layer, "_layers") and hasattr(layer, "_input_layer")
        and hasattr(layer, "_last_symbolic"))


def model_nodes(model) -> List["Node"]:
    """The model's layer calls (``Node``s, InputLayers excluded) in execution order.

    Args:
        model: a built ``Sequential`` or functional ``Model``.

    Returns:
        The nodes; each has ``layer``, ``input_tensors`` and ``output_tensors``, and the input
        tensors of a node are the model's inputs or outputs of earlier nodes.

    Raises:
        ValueError: a subclassed model (no layer graph), or a Sequential model without a known
            input shape.
    """
    if getattr(model, "_is_functional", False):
        return list(model._nodes)
    if not is_graph_model(model):
        raise ValueError(
            f"Model '{model.name}' ({type(model).__name__}) is a subclassed model: it has no "
            "layer graph to read. Use a Sequential or functional model.")
    if model._input_layer is None or model._last_symbolic is None:
        raise ValueError(
            f"Sequential model '{model.name}' has no known input shape: start it with "
            "keras.Input(shape=...) or build it first")
    current = model._input_layer.output_tensor
    nodes: List["Node"] = []
    for layer in model._layers:
        node = next((n for n in layer._inbound_nodes
                     if n.input_tensors and n.input_tensors[0] is current), None)
        if node is None:
            raise ValueError(f"Sequential model '{model.name}': layer '{layer.name}' has no call "
                             "on the previous layer's output; build the model again")
        nodes.append(node)
        current = node.output_tensors[0]
    return nodes


def producer(tensor):
    """The layer that produced a symbolic tensor (an InputLayer for a model input)."""
    return tensor._keras_history[0]
