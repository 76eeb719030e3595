"""``keras.utils.is_keras_tensor`` and ``get_source_inputs``: questions about symbolic tensors
of the functional API."""
from __future__ import annotations

from nnforge.core.tensor import KerasTensor


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic ``KerasTensor`` (from ``keras.Input`` or a layer called on
    one), as ``keras.utils.is_keras_tensor``.

    Args:
        x: any object.

    Returns:
        True for a KerasTensor, False otherwise (arrays and eager Tensors included).

    Example:

    >>> is_keras_tensor(nnforge.Input((3,))), is_keras_tensor(np.ones(3))
    (True, False)
    """
    return isinstance(x, KerasTensor)


def get_source_inputs(tensor) -> list:
    """The ``Input`` tensors a symbolic tensor was computed from
    (``keras.utils.get_source_inputs``), each once, in the order they are met walking the graph
    back.

    Args:
        tensor: a KerasTensor.

    Returns:
        A list of KerasTensors (``[tensor]`` itself for an ``Input``). An object that is not a
        KerasTensor is returned unchanged, as Keras does.

    Example:

    >>> a, b = nnforge.Input((3,)), nnforge.Input((3,))
    >>> out = nnforge.layers.Dense(2)(nnforge.layers.Add()([a, b]))
    >>> get_source_inputs(out) == [a, b]
    True
    """
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return tensor
    layer, node_index, _ = history
    nodes = getattr(layer, "_inbound_nodes", None) if layer is not None else None
    if not nodes:
        return [tensor]
    node = nodes[node_index]
    if not node.input_tensors:  # an input node
        return list(node.output_tensors)
    sources: list = []
    for t in node.input_tensors:
        for x in get_source_inputs(t):
            if all(x is not s for s in sources):
                sources.append(x)
    return sources
