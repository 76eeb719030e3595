"""A functional model's config in Keras 3's layout, and the model rebuilt from it (Keras 3
keeps these in ``keras/src/models/functional.py``)."""
from __future__ import annotations

from typing import Any, Dict

import numpy as np

from nnforge.core.tensor import KerasTensor, Tensor
from nnforge.layers.input_layer import InputLayer
from nnforge.layers.node import flatten, map_structure
from nnforge.saving.serialization import deserialize_layer, serialize_layer


def _tensor_ref(t: KerasTensor) -> dict:
    layer, node_index, tensor_index = t._keras_history
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(t.shape), "dtype": t.dtype,
                       "keras_history": [layer.name, node_index, tensor_index]}}


def _node_value(v):
    """A node argument as Keras 3 writes it: tensors as references, slices and ``...`` (a raw
    ``x[1:, ...]`` in the graph) as ``__slice__``/``__ellipsis__`` entries."""
    if isinstance(v, KerasTensor):
        return _tensor_ref(v)
    if isinstance(v, slice):
        return {"class_name": "__slice__",
                "config": {"start": v.start, "stop": v.stop, "step": v.step}}
    if v is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(v, Tensor):
        a = v.numpy()
        return {"class_name": "__tensor__",
                "config": {"value": a.tolist(), "dtype": a.dtype.name}}
    if isinstance(v, np.ndarray):
        if v.ndim == 0:
            return v.item()
        return {"class_name": "__numpy__",
                "config": {"value": v.tolist(), "dtype": v.dtype.name}}
    if isinstance(v, np.generic):
        return v.item()
    return v


def functional_config(model) -> dict:
    """A functional model's config: each layer serialized with its ``name`` and
    ``inbound_nodes`` (call arguments, symbolic tensors as ``__keras_tensor__`` references),
    and the ``input_layers``/``output_layers`` as ``[layer name, node index, tensor index]``."""
    layers = []
    node_maps = {}
    for layer in model.layers:
        kept = [n for n in layer._inbound_nodes if any(n is m for m in model._nodes)]
        node_maps[id(layer)] = {id(n): i for i, n in enumerate(layer._inbound_nodes)}
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        inbound = []
        for n in kept:
            args = map_structure(_node_value, list(n.args))
            kwargs = map_structure(_node_value, n.kwargs)
            inbound.append({"args": args, "kwargs": kwargs})
        entry["inbound_nodes"] = inbound
        layers.append(entry)

    def ref(t):
        layer, ni, ti = t._keras_history
        return [layer.name, ni, ti]
    ins = map_structure(ref, model._inputs_struct)
    outs = map_structure(ref, model._outputs_struct)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": ins if isinstance(ins, list) and ins and isinstance(ins[0], list)
            else ins, "output_layers": outs}


def functional_from_config(cls, config: dict):
    """Rebuild a functional model from ``functional_config``'s output: create each layer, then
    replay its calls once their input tensors exist. Custom layers are found through the
    registry and the active ``custom_object_scope``."""
    created: Dict[str, Any] = {}
    tensors: Dict[tuple, KerasTensor] = {}
    pending = list(config["layers"])
    for entry in pending:
        layer = deserialize_layer(entry)
        if layer.name != entry.get("name", layer.name):
            layer.name = entry["name"]
        created[entry.get("name", layer.name)] = layer

    for name, layer in created.items():
        if isinstance(layer, InputLayer):
            tensors[(name, 0, 0)] = layer.output_tensor

    # Replay layer calls until every node exists (layers may be listed before their inputs).
    node_counts = {name: 0 for name in created}
    remaining = [(e.get("name"), i, node) for e in pending
                 for i, node in enumerate(e.get("inbound_nodes", []))]
    progress = True
    while remaining and progress:
        progress = False
        still = []
        for name, idx, node in remaining:
            layer = created[name]
            if isinstance(layer, InputLayer):
                continue
            refs = [v for v in flatten(node) if isinstance(v, dict) and v.get(
                "class_name") == "__keras_tensor__"]
            keys = [tuple(r["config"]["keras_history"]) for r in refs]
            if not all(k in tensors for k in keys):
                still.append((name, idx, node))
                continue

            def resolve(v):
                if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
                    return tensors[tuple(v["config"]["keras_history"])]
                return v

            args = _resolve_structure(node.get("args", []), resolve)
            kwargs = _resolve_structure(node.get("kwargs", {}), resolve)
            out = layer(*args, **kwargs)
            node_index = node_counts[name]
            node_counts[name] += 1
            for ti, t in enumerate(flatten(out)):
                tensors[(name, node_index, ti)] = t
            progress = True
        remaining = still
    if remaining:
        raise ValueError(f"Invalid functional config: could not connect layers "
                         f"{sorted({r[0] for r in remaining})}")

    def get_ref(r):
        key = tuple(r)
        if key not in tensors:
            raise ValueError(f"Invalid functional config: unknown tensor {r}")
        return tensors[key]

    def build_io(spec):
        if isinstance(spec, list) and spec and isinstance(spec[0], str):
            return get_ref(spec)
        if isinstance(spec, dict):
            return {k: build_io(v) for k, v in spec.items()}
        return [build_io(s) for s in spec]

    inputs = build_io(config["input_layers"])
    outputs = build_io(config["output_layers"])
    if isinstance(inputs, list) and len(inputs) == 1:
        inputs = inputs[0]
    if isinstance(outputs, list) and len(outputs) == 1:
        outputs = outputs[0]
    return cls(inputs=inputs, outputs=outputs, name=config.get("name"),
               trainable=config.get("trainable", True))


def _resolve_structure(s, resolve):
    if isinstance(s, dict) and s.get("class_name") == "__keras_tensor__":
        return resolve(s)
    if isinstance(s, dict) and s.get("class_name") == "__slice__":
        c = s.get("config", {})
        return slice(c.get("start"), c.get("stop"), c.get("step"))
    if isinstance(s, dict) and s.get("class_name") == "__ellipsis__":
        return Ellipsis
    if isinstance(s, dict) and s.get("class_name") in ("__tensor__", "__numpy__"):
        c = s.get("config", {})
        a = np.array(c.get("value"), dtype=c.get("dtype"))
        return Tensor(a) if s["class_name"] == "__tensor__" else a
    if isinstance(s, dict):
        return {k: _resolve_structure(v, resolve) for k, v in s.items()}
    if isinstance(s, list):
        return [_resolve_structure(v, resolve) for v in s]
    return resolve(s)
