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

from .object_registration import custom_object_scope, get_registered_object
from .serialization import deserialize_keras_object, serialize_keras_object
from .weights_file import read_h5, write_h5

KERAS_VERSION = "3.15.1"  # the Keras file-format generation we write
_MAX_MEMBER_BYTES = 8 << 30  # refuse archives that declare more than this per member
_MAX_JSON_BYTES = 64 << 20
_MAX_RATIO = 1000  # uncompressed / compressed: beyond this, a zip bomb
_EXPECTED = ("metadata.json", "config.json", "model.weights.h5")


def get_compile_config(model) -> Optional[dict]:
    """Keras 3's ``compile_config`` of a compiled model: the optimizer, losses and metrics as
    given to ``compile`` (names stay names, objects are serialized through the registry)."""
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    args = getattr(model, "_compile_args", {})
    return {"optimizer": serialize_keras_object(model.optimizer),
            "loss": serialize_keras_object(args.get("loss")),
            "loss_weights": args.get("loss_weights"),
            "metrics": serialize_keras_object(args.get("metrics")),
            "weighted_metrics": serialize_keras_object(args.get("weighted_metrics")),
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
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"save: the filename must end in '.keras' (Keras 3 format), got "
                         f"{filepath!r}; use save_weights for '.weights.h5'")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save: {filepath!r} exists and overwrite=False")
    if not model.built:
        raise ValueError(f"save: model '{model.name}' is not built yet; call it on data or "
                         "give it an input shape first")
    config = serialize_keras_object(model)
    cc = get_compile_config(model) if include_optimizer else None
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
            _write_assets(zf, model)


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
    filepath = os.fspath(filepath)
    where = f"load_model({filepath!r})"
    with _open_archive(filepath) as zf:
        config = _json(zf, "config.json", where)
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(f"{where}: config.json does not describe a model")
        try:
            model = deserialize_keras_object(config, custom_objects, safe_mode=safe_mode,
                                             module=("keras", "keras.layers"), kind="layer")
        except (KeyError, TypeError) as e:
            raise ValueError(f"{where}: invalid model config ({type(e).__name__}: {e})") from None
        cc = config.get("compile_config")
        if compile and cc:
            compile_from_config(model, cc, custom_objects, where)
        weights = _read_member(zf, "model.weights.h5", _MAX_MEMBER_BYTES, where)
        read_h5(io.BytesIO(weights), model, where, load_optimizer=bool(compile and cc))
        _read_assets(zf, model, where)
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


def compile_from_config(model, cc: dict, custom_objects, where: str) -> None:
    def rebuild(value, module):
        if isinstance(value, dict) and "class_name" in value:
            return deserialize_keras_object(value, custom_objects, module=module,
                                            kind=module.split(".")[-1].rstrip("s"))
        if isinstance(value, dict):
            return {k: rebuild(v, module) for k, v in value.items()}
        if isinstance(value, list):
            return [rebuild(v, module) for v in value]
        if isinstance(value, str):  # a function name: a custom one, or a built-in by name
            found = get_registered_object(value, custom_objects)
            return value if found is None else found
        return value

    try:
        with custom_object_scope(custom_objects):
            model.compile(optimizer=rebuild(cc["optimizer"], "keras.optimizers"),
                          loss=rebuild(cc.get("loss"), "keras.losses"),
                          loss_weights=cc.get("loss_weights"),
                          metrics=rebuild(cc.get("metrics"), "keras.metrics"),
                          weighted_metrics=rebuild(cc.get("weighted_metrics"), "keras.metrics"))
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


def _asset_layers(model):
    """(path, layer) for every layer under ``model`` with assets (``save_assets``), the path
    as Keras's saving library names it (``layers/string_lookup``)."""
    from .weights_file import sublayer_groups
    out = []

    def walk(layer, prefix):
        for path, child in sublayer_groups(layer):
            full = f"{prefix}/{path}" if prefix else path
            if hasattr(child, "save_assets"):
                out.append((full, child))
            walk(child, full)
    walk(model, "")
    return out


def _write_assets(zf: zipfile.ZipFile, model) -> None:
    """Each layer's assets under ``assets/<layer path>/`` in the archive, as Keras 3 writes
    them (a lookup layer's ``vocabulary.txt``)."""
    import tempfile
    for path, layer in _asset_layers(model):
        with tempfile.TemporaryDirectory() as tmp:
            layer.save_assets(tmp)
            for fname in sorted(os.listdir(tmp)):
                full = os.path.join(tmp, fname)
                if os.path.isfile(full):
                    with open(full, "rb") as f:
                        zf.writestr(f"assets/{path}/{fname}", f.read())


def _read_assets(zf: zipfile.ZipFile, model, where: str) -> None:
    """Give each layer with ``load_assets`` the files of ``assets/<layer path>/``."""
    import tempfile
    names = zf.namelist()
    for path, layer in _asset_layers(model):
        prefix = f"assets/{path}/"
        members = [n for n in names if n.startswith(prefix) and "/" not in n[len(prefix):]
                   and n[len(prefix):]]
        if not members or not hasattr(layer, "load_assets"):
            continue
        with tempfile.TemporaryDirectory() as tmp:
            for n in members:
                data = _read_member(zf, n, _MAX_JSON_BYTES, where)
                with open(os.path.join(tmp, n[len(prefix):]), "wb") as f:
                    f.write(data)
            layer.load_assets(tmp)
