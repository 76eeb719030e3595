"""``OnnxGraph``: the ONNX nodes, initializers and tensor layouts of a model being exported.

Keras tensors are channels-last (NHWC, NWC); ONNX's Conv and pooling operators want
channels-first (NCHW, NCW). Each exported tensor may therefore exist in two layouts: ``"keras"``
(the layout the Keras tensor has) and ``"cf"`` (channels moved to axis 1). ``value(tensor,
layout)`` returns the name of the tensor in the layout a converter asks for and adds the
Transpose that makes it the first time it is asked for, so a chain of convolutions, pooling and
element-wise operations runs channels-first with a Transpose only where the chain starts and
where a layout-sensitive layer (Flatten, Dense, Reshape, ...) reads it.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

KERAS, CHANNELS_FIRST = "keras", "cf"


def to_channels_first_perm(rank: int) -> List[int]:
    """(N, d1, ..., dk, C) -> (N, C, d1, ..., dk)."""
    return [0, rank - 1] + list(range(1, rank - 1))


def to_keras_perm(rank: int) -> List[int]:
    """(N, C, d1, ..., dk) -> (N, d1, ..., dk, C)."""
    return [0] + list(range(2, rank)) + [1]


class OnnxGraph:
    """Collects ONNX nodes and initializers; hands out unique names.

    Args:
        opset: the ONNX opset the nodes are written for.
    """

    def __init__(self, opset: int):
        from onnx import helper, numpy_helper
        self._helper, self._numpy_helper = helper, numpy_helper
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self._used: set = set()
        self._consts: Dict[tuple, str] = {}
        # id(KerasTensor) -> {layout: ONNX name}; rank kept to build Transposes.
        self._values: Dict[int, Dict[str, str]] = {}
        self._ranks: Dict[int, int] = {}

    # -- names, constants, nodes ---------------------------------------------------------------
    def unique(self, base: str) -> str:
        base = base.replace(":", "_").replace("/", "_") or "t"
        name, i = base, 1
        while name in self._used:
            name, i = f"{base}_{i}", i + 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        self._used.add(name)

    def const(self, array, base: str, key=None) -> str:
        """An initializer holding ``array`` (float64 -> float32); reused for the same ``key``."""
        if key is not None and key in self._consts:
            return self._consts[key]
        arr = np.asarray(array)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        name = self.unique(base)
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(arr), name))
        if key is not None:
            self._consts[key] = name
        return name

    def int64s(self, values: Sequence[int], base: str) -> str:
        """A constant int64 vector (shapes, axes, slice bounds)."""
        return self.const(np.asarray(list(values), dtype=np.int64), base,
                          key=("int64", tuple(int(v) for v in values)))

    def scalar(self, value: float, base: str = "c") -> str:
        return self.const(np.asarray(value, dtype=np.float32), base,
                          key=("f32", float(np.float32(value))))

    def node(self, op: str, inputs: Sequence[str], base: str, outputs: int = 1,
             output_names: Optional[Sequence[str]] = None, **attrs):
        """Add a node; returns its output name (or the list of names when ``outputs > 1``)."""
        names = list(output_names) if output_names is not None else [
            self.unique(f"{base}_{op.lower()}" if outputs == 1 else f"{base}_{op.lower()}_{i}")
            for i in range(outputs)]
        self.nodes.append(self._helper.make_node(op, list(inputs), names,
                                                 name=self.unique(f"{base}/{op}"), **attrs))
        return names[0] if len(names) == 1 else names

    def transpose(self, x: str, perm: Sequence[int], base: str) -> str:
        return self.node("Transpose", [x], base, perm=list(perm))

    def squeeze(self, x: str, axes: Sequence[int], base: str) -> str:
        return self.node("Squeeze", [x, self.int64s(axes, "axes")], base)

    def unsqueeze(self, x: str, axes: Sequence[int], base: str) -> str:
        return self.node("Unsqueeze", [x, self.int64s(axes, "axes")], base)

    def reduce(self, op: str, x: str, axes: Sequence[int], keepdims: bool, base: str) -> str:
        """ReduceMean/ReduceMax/...: ``axes`` is an attribute before opset 18, an input from 18."""
        if self.opset >= 18 or op == "ReduceSum":
            return self.node(op, [x, self.int64s(axes, "axes")], base, keepdims=int(keepdims))
        return self.node(op, [x], base, axes=list(axes), keepdims=int(keepdims))

    # -- tensor values in two layouts ----------------------------------------------------------
    def set_value(self, tensor, name: str, layout: str = KERAS) -> None:
        self._values[id(tensor)] = {layout: name}
        self._ranks[id(tensor)] = len(tensor.shape)

    def alias(self, dst, src) -> None:
        """``dst`` is the same value as ``src`` (identity layers add no node)."""
        self._values[id(dst)] = self._values[id(src)]
        self._ranks[id(dst)] = self._ranks[id(src)]

    def has(self, tensor, layout: str) -> bool:
        return layout in self._values.get(id(tensor), {})

    def value(self, tensor, layout: str = KERAS) -> str:
        """The ONNX name of ``tensor`` in ``layout``, transposing it on first request."""
        entry = self._values[id(tensor)]
        if layout in entry:
            return entry[layout]
        rank = self._ranks[id(tensor)]
        if layout == CHANNELS_FIRST:
            entry[layout] = self.transpose(entry[KERAS], to_channels_first_perm(rank), "to_cf")
        else:
            entry[layout] = self.transpose(entry[CHANNELS_FIRST], to_keras_perm(rank),
                                           "to_keras")
        return entry[layout]

    def preferred_layout(self, tensors) -> str:
        """``"cf"`` when every tensor already exists channels-first (rank >= 3), else keras."""
        if all(self.has(t, CHANNELS_FIRST) and len(t.shape) >= 3 for t in tensors):
            return CHANNELS_FIRST
        return KERAS
