"""Weights in Keras 3's HDF5 layout (``model.weights.h5`` inside a ``.keras`` file, and
``.weights.h5`` files): ``layers/<name>/vars/<i>`` per layer, where ``<name>`` is the layer
class in snake_case made unique within its container (``dense``, ``dense_1``), as Keras's saving
library walks them; ``optimizer/vars/<i>`` holds the iteration count, the learning rate, then
each slot variable in the order of the model's trainable weights."""
from __future__ import annotations

import io
import os
from typing import Dict, Iterable, List, Tuple

import numpy as np

from nnforge.naming import to_snake_case


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is in the [test] and [saving] extras
        raise ImportError("Saving and loading weights needs h5py: pip install h5py "
                          "(or pip install 'nnforge[saving]')") from None
    return h5py


def child_layers(layer) -> List:
    """The layers Keras's saving library visits under ``layer``."""
    return [child for _, child in sublayer_groups(layer)]


def sublayer_groups(layer) -> List[Tuple[str, object]]:
    """(group path, layer) for each layer nested in ``layer``, named as Keras's saving library
    names them: a model's ``layers`` list as ``layers/<class in snake_case>[_n]``, any other
    layer's sublayers by the attribute holding them (``cell``, ``forward_layer``, ``layer``).
    Each class says which: ``Layer._sublayer_groups`` and ``Model._sublayer_groups``."""
    return layer._sublayer_groups()


def container_names(layers: Iterable) -> List[Tuple[str, object]]:
    """(name, layer) for a container's layers: the class in snake_case, numbered from the
    second of a kind (``dense``, ``dense_1``), as Keras's saving library names them."""
    counts: Dict[str, int] = {}
    out = []
    for layer in layers:
        base = to_snake_case(type(layer).__name__)
        n = counts.get(base, 0)
        counts[base] = n + 1
        out.append((base if n == 0 else f"{base}_{n}", layer))
    return out


def _write_layer(group, layer) -> None:
    vars_g = group.create_group("vars")
    vars_g.attrs["name"] = layer.name
    for i, w in enumerate(layer._own_weights):
        vars_g.create_dataset(str(i), data=np.asarray(w.numpy()))
    if hasattr(layer, "save_own_variables"):  # named state (a lookup's idf_weights), as Keras
        store: Dict[str, np.ndarray] = {}
        layer.save_own_variables(store)
        for key, value in store.items():
            vars_g.create_dataset(key, data=np.asarray(value))
    _write_sublayers(group, layer)


def _write_sublayers(group, layer) -> None:
    """Write each sub-layer of ``layer`` into a new sub-group of ``group``."""
    for path, child in sublayer_groups(layer):
        _write_layer(group.create_group(path), child)


def _read_layer(group, layer, where: str, skip_mismatch: bool) -> None:
    own = layer._own_weights
    vars_g = group.get("vars")
    stored = sum(k.isdigit() for k in vars_g) if vars_g is not None else 0
    if hasattr(layer, "load_own_variables") and vars_g is not None:
        layer.load_own_variables({k: vars_g[k][()] for k in vars_g if not k.isdigit()})
    if stored != len(own) and not skip_mismatch:
        raise ValueError(f"{where}: layer '{layer.name}' ({type(layer).__name__}) has "
                         f"{len(own)} weights but the file holds {stored}")
    for i, w in enumerate(own):
        if vars_g is None or str(i) not in vars_g:
            if skip_mismatch:
                continue
            raise ValueError(f"{where}: weight {i} of layer '{layer.name}' is missing")
        ds = vars_g[str(i)]
        if tuple(ds.shape) != tuple(w.shape):
            if skip_mismatch:
                continue
            raise ValueError(f"{where}: weight '{w.path}' of layer '{layer.name}' has shape "
                             f"{tuple(w.shape)} but the file holds shape {tuple(ds.shape)}")
        w.assign(np.asarray(ds[()], dtype=w.dtype))
    _read_sublayers(group, layer, where, skip_mismatch)


def _read_sublayers(group, layer, where: str, skip_mismatch: bool) -> None:
    """Read each sub-layer of ``layer`` from its sub-group of ``group``."""
    for path, child in sublayer_groups(layer):
        sub = group.get(path)
        if sub is None:
            if skip_mismatch or not child._all_weights():
                continue
            raise ValueError(f"{where}: no weights for layer '{child.name}' (group "
                             f"'{path}') in the file")
        _read_layer(sub, child, where, skip_mismatch)


def optimizer_values(model) -> List[np.ndarray]:
    """Keras's optimizer variable list: iterations, learning_rate, then the optimizer's state
    in Keras's order (``Optimizer._keras_state``: moving averages, the slots of each trainable
    weight, created as zeros where the optimizer has not stepped yet)."""
    return [np.asarray(s.numpy()) for s in model.optimizer._keras_state(model.trainable_weights)]


def write_h5(target, model, include_optimizer: bool) -> None:
    h5py = _h5py()
    with h5py.File(target, "w") as f:
        top = f.create_group("vars")
        top.attrs["name"] = model.name
        f.create_group("layers")
        _write_sublayers(f, model)
        if include_optimizer and getattr(model, "optimizer", None) is not None:
            og = f.create_group("optimizer").create_group("vars")
            og.attrs["name"] = model.optimizer.name
            for i, val in enumerate(optimizer_values(model)):
                og.create_dataset(str(i), data=val)
            # wrappers (LossScaleOptimizer, MultiOptimizer) also write their inner optimizers'
            # state in sub-groups, as Keras does
            children = getattr(model.optimizer, "_keras_child_states", None)
            for path, states in (children(model.trainable_weights) if children else []):
                cg = f["optimizer"].create_group(path).create_group("vars")
                for i, st in enumerate(states):
                    cg.create_dataset(str(i), data=np.asarray(st.numpy()))


def read_h5(source, model, where: str, skip_mismatch: bool = False,
            load_optimizer: bool = False, optimizer_mismatch: str = "raise") -> None:
    h5py = _h5py()
    try:
        f = h5py.File(source, "r")
    except (OSError, ValueError) as e:
        raise ValueError(f"{where}: not a readable HDF5 weights file ({e})") from None
    with f:
        _read_sublayers(f, model, where, skip_mismatch)
        og = f.get("optimizer/vars")
        if load_optimizer and og is not None and getattr(model, "optimizer", None) is not None:
            if optimizer_mismatch == "warn":  # load_weights: Keras warns and skips
                try:
                    _read_optimizer(og, model, where)
                except ValueError as e:
                    import warnings
                    warnings.warn(f"Skipping variable loading for the optimizer: {e}",
                                  stacklevel=3)
            else:
                _read_optimizer(og, model, where)


def _read_optimizer(og, model, where: str) -> None:
    opt = model.optimizer
    tw = model.trainable_weights
    state = opt._keras_state(tw)
    expected = len(state)
    if len(og) == 2 and expected > 2:
        # Saved before the optimizer ever stepped (Keras builds slots on the first update): only
        # the iteration count and the learning rate; the slots start from zeros, as they would.
        state, expected = state[:2], 2
    if len(og) != expected:
        raise ValueError(f"{where}: the optimizer state holds {len(og)} variables, expected "
                         f"{expected} for {type(opt).__name__} on {len(tw)} trainable weights")
    for i, s in enumerate(state):  # all shapes checked before anything is assigned
        ds = og[str(i)]
        if tuple(ds.shape) != tuple(s.shape):
            raise ValueError(f"{where}: optimizer variable {i} has shape {tuple(ds.shape)}, "
                             f"expected {tuple(s.shape)}")
    for i, s in enumerate(state):
        s.assign(np.asarray(og[str(i)][()], dtype=s.dtype))
    opt.built = True


def save_weights(model, filepath: str, overwrite: bool = True) -> None:
    """``model.save_weights``: the ``.weights.h5`` file, written atomically."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"save_weights: the filename must end in '.weights.h5', got "
                         f"{filepath!r}")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"save_weights: {filepath!r} exists and overwrite=False")
    buf = io.BytesIO()
    # as Keras 3: a compiled model's optimizer state is saved with its weights
    write_h5(buf, model, include_optimizer=getattr(model, "optimizer", None) is not None)
    from .atomic import atomic_write
    with atomic_write(filepath) as f:
        f.write(buf.getvalue())


def load_weights(model, filepath: str, skip_mismatch: bool = False) -> None:
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        from .keras_file import load_weights_from_keras
        load_weights_from_keras(model, filepath, skip_mismatch)
        return
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"load_weights: expected a '.weights.h5' or '.keras' file, got "
                         f"{filepath!r}")
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_weights: no such file {filepath!r}")
    read_h5(filepath, model, f"load_weights({filepath!r})", skip_mismatch, load_optimizer=True,
            optimizer_mismatch="warn")
