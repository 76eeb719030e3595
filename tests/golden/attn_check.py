"""Run one case of ``attn.npz`` (written by ``make_attn_golden.py`` under Keras 3) through
nnforge and compare outputs and gradients."""
from __future__ import annotations

import os

import numpy as np

import nnforge
from nnforge import layers, ops

from .attn_cases import LAYER_CASES, OP_CASES, call_layer, call_op, make_layer, rel_path

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attn.npz")
_DATA = None


def golden():
    global _DATA
    if _DATA is None:
        _DATA = dict(np.load(_PATH))
    return _DATA


def _close(got, want, what, rtol=1e-5, atol=1e-5):
    want = np.asarray(want)
    scale = max(1.0, float(np.abs(want).max())) if want.size else 1.0
    np.testing.assert_allclose(np.asarray(got), want, rtol=rtol, atol=atol * scale,
                               err_msg=what)


def _case_kwargs(name, spec, key):
    """A case's keyword arguments: ``spec[key]`` and the boolean masks Keras was given."""
    d = golden()
    kwargs = dict(spec.get(key, {}))
    for k in spec.get("bool_kwargs", {}):
        kwargs[k] = d[f"{name}/k_{k}"]
    return kwargs


def check_layer_case(name: str, rtol: float = 1e-5, atol: float = 1e-5):
    """Build the layer of case ``name``, load Keras's weights, and compare the outputs and the
    gradients of the inputs and of every trainable weight with Keras 3's."""
    spec = LAYER_CASES[name]
    d = golden()
    layer = make_layer(layers, spec)
    xs = [d[f"{name}/x{i}"] for i in range(len(spec["inputs"]))]
    kwargs = _case_kwargs(name, spec, "call_kwargs")
    if "build_shape" in spec:
        layer.build(spec["build_shape"])
        layer.built = True
    else:
        call_layer(layer, spec, xs, kwargs)
    ours = {rel_path(w.path): w for w in layer.weights}
    paths = [str(p) for p in d[f"{name}/wpath"]]
    assert sorted(ours) == sorted(paths), f"{name}: weights {sorted(ours)} vs Keras {paths}"
    for i, p in enumerate(paths):
        assert ours[p].shape == d[f"{name}/w{i}"].shape, f"{name}: weight {p} shape"
        ours[p].assign(d[f"{name}/w{i}"])
    tx = [ops.convert_to_tensor(x) for x in xs]
    trainable = {rel_path(w.path): w for w in layer.trainable_weights}
    gpaths = [str(p) for p in d[f"{name}/gwpath"]]
    with nnforge.GradientTape() as tape:
        tape.watch(tx)
        ys = call_layer(layer, spec, tx, kwargs)
        ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
        loss = None
        for j, y in enumerate(ys):
            term = ops.sum(ops.multiply(y, d[f"{name}/p{j}"]))
            loss = term if loss is None else ops.add(loss, term)
    grads = tape.gradient(loss, tx + [trainable[p] for p in gpaths])
    for j, y in enumerate(ys):
        _close(y.numpy(), d[f"{name}/y{j}"], f"{name}: output {j}", rtol, atol)
    for i in range(len(xs)):
        _close(grads[i].numpy(), d[f"{name}/gx{i}"], f"{name}: gradient of input {i}", rtol,
               atol)
    for i, p in enumerate(gpaths):
        _close(grads[len(xs) + i].numpy(), d[f"{name}/gw{i}"], f"{name}: gradient of {p}",
               rtol, atol)
    return layer


def check_op_case(name: str, rtol: float = 1e-5, atol: float = 1e-5) -> None:
    """Compare op case ``name`` (output and the gradients of every argument) with Keras 3."""
    spec = OP_CASES[name]
    d = golden()
    tx = [ops.convert_to_tensor(d[f"{name}/x{i}"]) for i in range(len(spec["args"]))]
    kwargs = _case_kwargs(name, spec, "kwargs")
    with nnforge.GradientTape() as tape:
        tape.watch(tx)
        y = call_op(ops, spec, tx, kwargs)
        loss = ops.sum(ops.multiply(y, d[f"{name}/p0"]))
    grads = tape.gradient(loss, tx)
    _close(y.numpy(), d[f"{name}/y0"], f"{name}: output", rtol, atol)
    for i, g in enumerate(grads):
        _close(g.numpy(), d[f"{name}/gx{i}"], f"{name}: gradient of argument {i}", rtol, atol)
