"""A node of the functional graph: one call of a layer on symbolic KerasTensors."""
from __future__ import annotations

from typing import Any, List

from nnforge.core.tensor import KerasTensor


def flatten(structure) -> list:
    if isinstance(structure, dict):
        return [v for k in structure for v in flatten(structure[k])]
    if isinstance(structure, (list, tuple)):
        return [v for s in structure for v in flatten(s)]
    return [structure]


def map_structure(fn, structure):
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    if isinstance(structure, list):
        return [map_structure(fn, v) for v in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, v) for v in structure)
    return fn(structure)


class Node:
    """``layer`` called with ``args``/``kwargs`` (which hold KerasTensors) produced ``outputs``."""

    def __init__(self, layer, args: tuple, kwargs: dict, outputs: Any):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs = outputs
        self.input_tensors: List[KerasTensor] = [
            t for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)]
        self.output_tensors: List[KerasTensor] = [
            t for t in flatten(outputs) if isinstance(t, KerasTensor)]

    @property
    def parent_nodes(self) -> list:
        out = []
        for t in self.input_tensors:
            layer, node_index, _ = t._keras_history
            out.append(layer._inbound_nodes[node_index])
        return out
