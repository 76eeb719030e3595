"""Shared checks of the layers against the Keras 3 golden file ``tests/golden/conv.npz`` (made by
``tests/golden/make_conv_golden.py``): outputs, gradients of the input and of every weight,
config keys and values, loading Keras's own config and ``.keras`` file, and nnforge's own
``.keras`` round trip."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

import nnforge
from nnforge import layers, ops
from tests.golden.make_conv_golden import LAYER_CASES, OP_CASES, flat, make_layer

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "conv.npz"


@lru_cache(maxsize=1)
def golden() -> dict:
    with np.load(GOLDEN) as f:
        return {k: f[k] for k in f.files}


def cases_of(*classes: str) -> list:
    """The layer case names whose class is one of ``classes``."""
    return sorted(n for n, (cls, *_rest) in LAYER_CASES.items() if cls in classes)


def ops_cases_of(*names: str) -> list:
    return sorted(n for n, (op, *_rest) in OP_CASES.items() if op in names)


def _weights(ref, name):
    out, i = [], 0
    while f"{name}/w{i}" in ref:
        out.append(ref[f"{name}/w{i}"])
        i += 1
    return out


def _flat_output(outputs) -> np.ndarray:
    return np.concatenate([np.asarray(t).reshape(-1) for t in flat(outputs)])


def build_case(name):
    """Our layer of a case, called once and given the golden weights; and the golden data."""
    ref = golden()
    cls, kwargs, _, _ = LAYER_CASES[name]
    layer = make_layer(layers, cls, kwargs)
    layer(ref[f"{name}/x"])
    weights = _weights(ref, name)
    assert len(layer.weights) == len(weights), \
        f"{name}: {len(layer.weights)} weights, Keras has {len(weights)}"
    layer.set_weights(weights)
    return layer, ref


def check_numbers(name: str, tol: float = 1e-5, to_device=None) -> None:
    """Output, input gradient and weight gradients equal Keras 3's within ``tol`` (1e-5);
    ``to_device`` (e.g. cupy.asarray) moves the input first."""
    layer, ref = build_case(name)
    x = ref[f"{name}/x"]
    x = ops.convert_to_tensor(x if to_device is None else to_device(x))
    with nnforge.GradientTape() as tape:
        tape.watch(x)
        outs = flat(layer(x, training=False))
        y = ops.concatenate([ops.reshape(t, (-1,)) for t in outs], axis=0)
        loss = ops.sum(ops.multiply(y, ref[f"{name}/r"]))
    np.testing.assert_allclose(y.numpy(), ref[f"{name}/y"], rtol=tol, atol=tol,
                               err_msg=f"{name}: output differs from Keras 3")
    weights = list(layer.weights)
    grads = tape.gradient(loss, [x] + weights)
    targets = ["input"] + [w.path for w in weights]
    expected = [ref[f"{name}/dx"]] + [ref[f"{name}/dw{i}"] for i in range(len(weights))]
    for what, g, e in zip(targets, grads, expected):
        assert g is not None, f"{name}: no gradient for {what}"
        scale = max(1.0, float(np.abs(e).max()))
        np.testing.assert_allclose(g.numpy(), e, rtol=tol, atol=tol * scale,
                                   err_msg=f"{name}: gradient of {what} differs from Keras 3")


def _normalize(value):
    """Config values as JSON has them; initializer-like dicts reduced to their class name."""
    if isinstance(value, dict):
        if "class_name" in value:
            return value["class_name"]
        return {k: _normalize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    return value


_IGNORED = {"dtype", "name"}


def check_config(name: str) -> None:
    """Our config has Keras's keys and values; Keras's config builds our layer, which then
    computes the same; from_config(get_config()) round-trips."""
    layer, ref = build_case(name)
    keras_config = json.loads(str(ref[f"{name}/config"]))
    ours = json.loads(json.dumps(layer.get_config()))
    assert set(keras_config) - _IGNORED <= set(ours), \
        f"{name}: config lacks {sorted(set(keras_config) - _IGNORED - set(ours))}"
    for key in set(keras_config) - _IGNORED - {"cell"}:
        assert _normalize(ours[key]) == _normalize(keras_config[key]), \
            f"{name}: config[{key!r}] is {ours[key]!r}, Keras has {keras_config[key]!r}"
    cls = type(layer)
    clone = cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config(), f"{name}: config round trip differs"
    config = dict(keras_config)
    config.pop("dtype", None)
    from_keras = cls.from_config(config)
    x = ref[f"{name}/x"]
    from_keras(x)
    from_keras.set_weights(layer.get_weights())
    np.testing.assert_allclose(_flat_output(from_keras(x)), _flat_output(layer(x)), rtol=1e-6,
                               atol=1e-6, err_msg=f"{name}: layer from Keras's config differs")


def check_keras_file(name: str, tmp_path) -> None:
    """A ``.keras`` file saved by Keras 3 loads and predicts as Keras did."""
    ref = golden()
    path = tmp_path / f"{name}_keras.keras"
    path.write_bytes(ref[f"{name}/keras_file"].tobytes())
    model = nnforge.saving.load_model(path)
    pred = model.predict(ref[f"{name}/x"], verbose=0)
    np.testing.assert_allclose(_flat_output(pred), ref[f"{name}/predict"], rtol=1e-5,
                               atol=1e-5, err_msg=f"{name}: Keras's .keras file predicts "
                                                  "differently in nnforge")


def check_own_round_trip(name: str, tmp_path) -> None:
    """A model holding the layer, saved by nnforge and loaded, predicts the same; the symbolic
    output shape (keras.Input) equals the eager one."""
    cls, kwargs, shape, _ = LAYER_CASES[name]
    ref = golden()
    x = ref[f"{name}/x"]
    model = nnforge.Sequential([nnforge.Input(shape[1:]), make_layer(layers, cls, kwargs)])
    expected = model.predict(x, verbose=0)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = nnforge.saving.load_model(path)
    np.testing.assert_allclose(_flat_output(restored.predict(x, verbose=0)),
                               _flat_output(expected), rtol=1e-6, atol=1e-6,
                               err_msg=f"{name}: .keras round trip differs")
    layer = make_layer(layers, cls, kwargs)
    symbolic = flat(layer(nnforge.Input(shape[1:])))
    eager = flat(make_layer(layers, cls, kwargs)(x))
    assert [tuple(s.shape)[1:] for s in symbolic] == [tuple(e.shape)[1:] for e in eager], \
        f"{name}: symbolic shapes differ from eager ones"


def check_op(name: str, tol: float = 1e-5, to_device=None) -> None:
    """An op's output and the gradients of its array arguments equal Keras 3's within ``tol``;
    ``to_device`` (e.g. cupy.asarray) moves the arrays first."""
    op, shapes, kwargs = OP_CASES[name]
    ref = golden()
    move = (lambda a: a) if to_device is None else to_device
    arrays = [ops.convert_to_tensor(move(ref[f"op/{name}/a{i}"])) for i in range(len(shapes))]
    with nnforge.GradientTape() as tape:
        tape.watch(arrays)
        y = getattr(ops, op)(*arrays, **kwargs)
        loss = ops.sum(ops.multiply(y, ref[f"op/{name}/r"]))
    np.testing.assert_allclose(y.numpy(), ref[f"op/{name}/y"], rtol=tol, atol=tol,
                               err_msg=f"{name}: ops.{op} differs from keras.ops.{op}")
    for i, g in enumerate(tape.gradient(loss, arrays)):
        e = ref[f"op/{name}/g{i}"]
        scale = max(1.0, float(np.abs(e).max()))
        np.testing.assert_allclose(g.numpy(), e, rtol=tol, atol=tol * scale,
                                   err_msg=f"{name}: gradient of argument {i} differs")


def keras3_tests(cases):
    """The three Keras-3 golden tests of a layer test module, parametrized over ``cases``: outputs
    and gradients, config, and .keras files (ours round trip; Keras-written ones load). A module
    assigns them to its own test names so pytest collects them there."""
    @pytest.mark.parametrize("name", cases)
    def test_output_and_gradients_match_keras3(name):
        check_numbers(name)

    @pytest.mark.parametrize("name", cases)
    def test_config_matches_keras3(name):
        check_config(name)

    @pytest.mark.parametrize("name", cases)
    def test_keras_file_round_trips(name, tmp_path):
        check_own_round_trip(name, tmp_path)
        if LAYER_CASES[name][3]:
            check_keras_file(name, tmp_path)

    return (test_output_and_gradients_match_keras3, test_config_matches_keras3,
            test_keras_file_round_trips)
