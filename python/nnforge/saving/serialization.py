"""Layer and model configs in Keras 3's serialized form, and rebuilding models from them.

A layer serializes to ``{"module", "class_name", "config", "registered_name", "build_config"}``;
a functional model adds, per layer, ``name`` and ``inbound_nodes`` whose arguments reference
``__keras_tensor__`` entries by ``keras_history`` (layer name, node index, tensor index)."""
from __future__ import annotations

from typing import Any, Dict, Optional

from nnforge.core.tensor import KerasTensor
from nnforge.layers.node import flatten, map_structure

_SAFE_MODULES = ("keras.layers", "keras.models", "keras", "keras.src.models.functional",
                 "keras.src.models.sequential", "keras.src.models.model", "nnforge.layers")


def _registry() -> Dict[str, Any]:
    import nnforge.layers as L
    from nnforge import models as M
    reg = {name: obj for name, obj in vars(L).items()
           if isinstance(obj, type) and issubclass(obj, L.Layer)}
    reg.update({"Sequential": M.Sequential, "Functional": M.Model, "Model": M.Model})
    return reg


def _layer_module(layer) -> str:
    from nnforge import models as M
    if isinstance(layer, M.Sequential):
        return "keras"
    if isinstance(layer, M.Model):
        return "keras.src.models.functional" if layer._is_functional else "keras"
    return "keras.layers"


def serialize_layer(layer) -> dict:
    from nnforge import models as M
    cls_name = type(layer).__name__
    if isinstance(layer, M.Model) and not isinstance(layer, M.Sequential) and \
            layer._is_functional and type(layer) is M.Model:
        cls_name = "Functional"
    out = {"module": _layer_module(layer), "class_name": cls_name,
           "config": layer.get_config(), "registered_name": None}
    if type(layer).__module__.split(".")[0] != "nnforge":
        out["registered_name"] = f"Custom>{cls_name}"
        out["module"] = type(layer).__module__
    build_shape = _build_input_shape(layer)
    if build_shape is not None:
        out["build_config"] = {"input_shape": build_shape}
    return out


def _build_input_shape(layer):
    if not layer.built or not layer._inbound_nodes:
        return None
    from nnforge.layers.input_layer import InputLayer
    if isinstance(layer, InputLayer):
        return None
    node = layer._inbound_nodes[0]
    shapes = [list(t.shape) for t in node.input_tensors]
    if not shapes:
        return None
    return shapes[0] if len(shapes) == 1 else shapes


def deserialize_layer(config: dict, custom_objects: Optional[dict] = None):
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Invalid layer config (needs 'class_name' and 'config'): {config!r}")
    cls_name = config["class_name"]
    custom_objects = custom_objects or {}
    cls = custom_objects.get(cls_name)
    reg_name = config.get("registered_name")
    if cls is None and reg_name:
        cls = custom_objects.get(reg_name)
    if cls is None:
        cls = _registry().get(cls_name)
    if cls is None:
        raise ValueError(f"Unknown layer class '{cls_name}' in the model config. If it is a custom "
                         f"layer, pass it in custom_objects={{'{cls_name}': {cls_name}}}.")
    inner = dict(config.get("config", {}))
    from nnforge import models as M
    if isinstance(cls, type) and issubclass(cls, M.Model):
        layer = cls.from_config(inner, custom_objects) if cls.from_config.__func__.__code__.co_argcount > 2 \
            else cls.from_config(inner)
    else:
        layer = cls.from_config(inner)
    build = config.get("build_config")
    if build and not layer.built and build.get("input_shape") is not None:
        shape = build["input_shape"]
        if shape and isinstance(shape[0], list):
            shape = [tuple(s) for s in shape]
        else:
            shape = tuple(shape)
        try:
            layer.build(shape)
            layer.built = True
        except Exception as e:
            raise ValueError(f"Could not build layer '{layer.name}' ({cls_name}) with input shape "
                             f"{shape}: {e}") from e
    return layer


def _tensor_ref(t: KerasTensor) -> dict:
    layer, node_index, tensor_index = t._keras_history
    return {"class_name": "__keras_tensor__",
            "config": {"shape": list(t.shape), "dtype": t.dtype,
                       "keras_history": [layer.name, node_index, tensor_index]}}


def functional_config(model) -> dict:
    layers = []
    node_maps = {}
    for layer in model.layers:
        kept = [n for n in layer._inbound_nodes if any(n is m for m in model._nodes)]
        node_maps[id(layer)] = {id(n): i for i, n in enumerate(layer._inbound_nodes)}
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        inbound = []
        for n in kept:
            args = map_structure(lambda v: _tensor_ref(v) if isinstance(v, KerasTensor) else v,
                                 list(n.args))
            kwargs = map_structure(lambda v: _tensor_ref(v) if isinstance(v, KerasTensor) else v,
                                   n.kwargs)
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


def functional_from_config(cls, config: dict, custom_objects=None):
    created: Dict[str, Any] = {}
    tensors: Dict[tuple, KerasTensor] = {}
    pending = list(config["layers"])
    for entry in pending:
        layer = deserialize_layer(entry, custom_objects)
        if layer.name != entry.get("name", layer.name):
            layer.name = entry["name"]
        created[entry.get("name", layer.name)] = layer

    from nnforge.layers.input_layer import InputLayer
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
    if isinstance(outputs, list) and len(outputs) == 1 and not (
            isinstance(config["output_layers"][0], list) and len(config["output_layers"]) == 1
            and False):
        outputs = outputs[0]
    model_cls = cls if cls.__name__ not in ("Functional",) else None
    from nnforge.models import Model
    return (model_cls or Model)(inputs=inputs, outputs=outputs, name=config.get("name"),
                                trainable=config.get("trainable", True))


def _resolve_structure(s, resolve):
    if isinstance(s, dict) and s.get("class_name") == "__keras_tensor__":
        return resolve(s)
    if isinstance(s, dict):
        return {k: _resolve_structure(v, resolve) for k, v in s.items()}
    if isinstance(s, list):
        return [_resolve_structure(v, resolve) for v in s]
    return resolve(s)


def clone_model(model, input_tensors=None, clone_function=None):
    from nnforge import models as M
    config = serialize_layer(model)
    return deserialize_layer(config)
