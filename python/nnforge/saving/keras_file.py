"""``.keras`` files in Keras 3's layout: a zip of ``metadata.json``, ``config.json`` (the
serialized model with its ``compile_config``) and ``model.weights.h5``; nnforge adds
``nnforge.json`` (random states, for resuming) which Keras ignores. No pickle anywhere: loading
parses JSON and HDF5 only, entirely in memory, and never executes code from the file."""
from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from typing import Optional

import numpy as np

from nnforge import random_state

from .weights_file import read_h5, write_h5

KERAS_VERSION = "3.15.1"  # the Keras file-format generation we write
_MAX_MEMBER_BYTES = 8 << 30  # refuse archives that declare more than this per member
_MAX_JSON_BYTES = 64 << 20
_MAX_RATIO = 1000  # uncompressed / compressed: beyond this, a zip bomb
_EXPECTED = ("metadata.json", "config.json", "model.weights.h5")


def _compile_config(model) -> Optional[dict]:
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    from nnforge import losses, metrics, optimizers
    args = getattr(model, "_compile_args", {})

    def ser_loss(l):
        if l is None or isinstance(l, str):
            return l
        if isinstance(l, (list, tuple)):
            return [ser_loss(v) for v in l]
        if isinstance(l, dict):
            return {k: ser_loss(v) for k, v in l.items()}
        return losses.serialize(l)

    def ser_metric(m):
        if m is None or isinstance(m, str):
            return m
        if isinstance(m, (list, tuple)):
            return [ser_metric(v) for v in m]
        if isinstance(m, dict):
            return {k: ser_metric(v) for k, v in m.items()}
        if isinstance(m, metrics.Metric):
            return metrics.serialize(m)
        return getattr(m, "__name__", str(m))

    return {"optimizer": optimizers.serialize(model.optimizer),
            "loss": ser_loss(args.get("loss")), "loss_weights": args.get("loss_weights"),
            "metrics": ser_metric(args.get("metrics")),
            "weighted_metrics": ser_metric(args.get("weighted_metrics")),
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def _layer_rngs(model) -> dict:
    from .weights_file import child_layers
    out = {}

    def walk(layer, prefix):
        rng = getattr(layer, "_rng", None)
        if isinstance(rng, np.random.Generator):
            out[prefix + layer.name] = rng.bit_generator.state
        for child in child_layers(layer):
            walk(child, prefix + layer.name + "/")
    for child in child_layers(model):
        walk(child, "")
    return out


def save_model(model, filepath, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Write ``model`` to a ``.keras`` file, atomically (the old file survives a crash)."""
    from .atomic import atomic_write
    from .serialization import serialize_layer
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"save: the filename must end in '.keras' (Keras 3 format), got "
                         f"{filepath!r}; use save_weights for '.weights.h5'")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save: {filepath!r} exists and overwrite=False")
    if not model.built:
        raise ValueError(f"save: model '{model.name}' is not built yet; call it on data or "
                         "give it an input shape first")
    config = serialize_layer(model)
    cc = _compile_config(model) if include_optimizer else None
    if cc is not None:
        config["compile_config"] = cc
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "nnforge": True}
    weights = io.BytesIO()
    write_h5(weights, model, include_optimizer=include_optimizer and cc is not None)
    extras = {"format": 1, "epoch": int(getattr(model, "epochs_trained", 0)),
              "global_rng": random_state.get_state(), "layer_rngs": _layer_rngs(model)}
    with atomic_write(filepath) as f:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("metadata.json", json.dumps(metadata))
            zf.writestr("config.json", json.dumps(config))
            zf.writestr("model.weights.h5", weights.getvalue())
            zf.writestr("nnforge.json", json.dumps(extras))


def _open_archive(filepath: str) -> zipfile.ZipFile:
    where = f"load_model({filepath!r})"
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"{where}: no such file")
    if not zipfile.is_zipfile(filepath):
        raise ValueError(f"{where}: not a .keras file (not a zip archive)")
    try:
        zf = zipfile.ZipFile(filepath, "r")
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise ValueError(f"{where}: damaged .keras archive ({e})") from None
    for info in infos:
        name = info.filename
        if name.startswith(("/", "\\")) or ".." in name.replace("\\", "/").split("/") or \
                ":" in name:
            zf.close()
            raise ValueError(f"{where}: refusing archive member with an unsafe name {name!r}")
        if info.file_size > _MAX_MEMBER_BYTES or (
                info.compress_size > 0 and info.file_size / info.compress_size > _MAX_RATIO
                and info.file_size > (1 << 20)):
            zf.close()
            raise ValueError(f"{where}: archive member {name!r} declares {info.file_size} bytes "
                             "uncompressed: refusing it (possible zip bomb)")
    names = {i.filename for i in infos}
    missing = [n for n in ("config.json", "model.weights.h5") if n not in names]
    if missing:
        zf.close()
        raise ValueError(f"{where}: the archive lacks {missing}; a .keras file holds "
                         f"{list(_EXPECTED)}")
    return zf


def _read_member(zf: zipfile.ZipFile, name: str, limit: int, where: str) -> bytes:
    try:
        with zf.open(name) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ValueError(f"{where}: cannot read {name!r} from the archive ({e})") from None
    if len(data) > limit:
        raise ValueError(f"{where}: {name!r} is larger than {limit} bytes")
    return data


def _json(zf, name, where):
    try:
        return json.loads(_read_member(zf, name, _MAX_JSON_BYTES, where))
    except json.JSONDecodeError as e:
        raise ValueError(f"{where}: {name} is not valid JSON ({e})") from None


def load_model(filepath, custom_objects=None, compile: bool = True, safe_mode: bool = True):
    """Load a ``.keras`` file written by nnforge or by Keras 3 (for the layers nnforge has)."""
    from .serialization import deserialize_layer
    filepath = os.fspath(filepath)
    where = f"load_model({filepath!r})"
    with _open_archive(filepath) as zf:
        config = _json(zf, "config.json", where)
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"{where}: config.json does not describe a model")
        try:
            model = deserialize_layer(config, custom_objects)
        except (KeyError, TypeError) as e:
            raise ValueError(f"{where}: invalid model config ({type(e).__name__}: {e})") from None
        cc = config.get("compile_config")
        if compile and cc:
            _compile_from_config(model, cc, custom_objects, where)
        weights = _read_member(zf, "model.weights.h5", _MAX_MEMBER_BYTES, where)
        read_h5(io.BytesIO(weights), model, where, load_optimizer=bool(compile and cc))
        if "nnforge.json" in zf.namelist():
            extras = _json(zf, "nnforge.json", where)
            _restore_rngs(model, extras)
            if isinstance(extras.get("epoch"), int) and extras["epoch"] >= 0:
                model.epochs_trained = extras["epoch"]
    return model


def load_weights_from_keras(model, filepath: str, skip_mismatch: bool = False) -> None:
    where = f"load_weights({filepath!r})"
    with _open_archive(filepath) as zf:
        weights = _read_member(zf, "model.weights.h5", _MAX_MEMBER_BYTES, where)
    read_h5(io.BytesIO(weights), model, where, skip_mismatch)


def _compile_from_config(model, cc: dict, custom_objects, where: str) -> None:
    from nnforge import losses, metrics, optimizers

    def de_loss(l):
        if isinstance(l, dict) and "class_name" in l:
            return losses.get(l)
        if isinstance(l, dict):
            return {k: de_loss(v) for k, v in l.items()}
        if isinstance(l, list):
            return [de_loss(v) for v in l]
        if isinstance(l, str) and custom_objects and l in custom_objects:
            return custom_objects[l]
        return l

    def de_metric(m):
        if isinstance(m, dict) and "class_name" in m:
            return metrics.deserialize(m)
        if isinstance(m, dict):
            return {k: de_metric(v) for k, v in m.items()}
        if isinstance(m, list):
            return [de_metric(v) for v in m]
        return m

    try:
        opt = optimizers.get(cc["optimizer"])
        model.compile(optimizer=opt, loss=de_loss(cc.get("loss")),
                      loss_weights=cc.get("loss_weights"), metrics=de_metric(cc.get("metrics")),
                      weighted_metrics=de_metric(cc.get("weighted_metrics")))
    except (KeyError, TypeError) as e:
        raise ValueError(f"{where}: invalid compile_config ({type(e).__name__}: {e})") from None


def _restore_rngs(model, extras: dict) -> None:
    state = extras.get("global_rng")
    if isinstance(state, dict):
        random_state.set_state(state)
    saved = extras.get("layer_rngs") or {}
    from .weights_file import child_layers

    def walk(layer, prefix):
        rng = getattr(layer, "_rng", None)
        st = saved.get(prefix + layer.name)
        if isinstance(rng, np.random.Generator) and isinstance(st, dict):
            rng.bit_generator.state = st
        for child in child_layers(layer):
            walk(child, prefix + layer.name + "/")
    for child in child_layers(model):
        walk(child, "")
