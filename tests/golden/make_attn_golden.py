"""Golden outputs and gradients from real Keras 3 (TensorFlow backend) for the attention,
normalization and small core layers and ops of ``attn_cases.py``.

Run from the repository root with the peers venv:

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_attn_golden.py

It writes ``tests/golden/attn.npz``: for each case ``<case>/x<i>`` (inputs), ``<case>/w<i>``
(weights, set into the layer in ``<case>/wpath`` order), ``<case>/k_<name>`` (boolean masks
passed to the call), ``<case>/p<j>`` (random projections of the outputs), ``<case>/y<j>``
(outputs) and the gradients of ``sum_j sum(y_j * p_j)``: ``<case>/gx<i>`` for the float
inputs and ``<case>/gw<i>`` for the trainable weights (``<case>/gwpath``)."""
from __future__ import annotations

import os
import sys

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attn_cases import (LAYER_CASES, OP_CASES, call_layer, call_op, make_layer,  # noqa: E402
                        rel_path)


def bool_mask(rng, shape):
    m = rng.random(shape) > 0.35
    m[..., 0] = True  # every row attends somewhere
    return m


def case_kwargs(name, spec, key, out, rng):
    """A case's keyword arguments: ``spec[key]`` and a random boolean mask for each of its
    ``bool_kwargs`` (stored in ``out`` too, for the tests to pass the same masks)."""
    kwargs = dict(spec.get(key, {}))
    for k, shape in spec.get("bool_kwargs", {}).items():
        m = bool_mask(rng, shape)
        out[f"{name}/k_{k}"] = m
        kwargs[k] = m
    return kwargs


def layer_case(name, spec, out, rng):
    layer = make_layer(keras.layers, spec)
    xs = [rng.standard_normal(s).astype(np.float32) for s in spec["inputs"]]
    call_kwargs = case_kwargs(name, spec, "call_kwargs", out, rng)
    if "build_shape" in spec:
        layer.build(spec["build_shape"])
    else:
        call_layer(layer, spec, [tf.constant(x) for x in xs], call_kwargs)  # builds
    weights = [(0.5 * rng.standard_normal(tuple(w.shape))).astype(np.float32)
               for w in layer.weights]
    layer.set_weights(weights)
    out[f"{name}/wpath"] = np.array([rel_path(w.path) for w in layer.weights], dtype="U64")
    for i, w in enumerate(weights):
        out[f"{name}/w{i}"] = w
    for i, x in enumerate(xs):
        out[f"{name}/x{i}"] = x
    tx = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        tape.watch(tx)
        ys = call_layer(layer, spec, tx, call_kwargs)
        ys = list(ys) if isinstance(ys, (tuple, list)) else [ys]
        projs = [rng.standard_normal(tuple(y.shape)).astype(np.float32) for y in ys]
        loss = tf.add_n([tf.reduce_sum(y * p) for y, p in zip(ys, projs)])
    trainable = layer.trainable_weights
    grads = tape.gradient(loss, tx + trainable)
    for j, (y, p) in enumerate(zip(ys, projs)):
        out[f"{name}/y{j}"] = np.asarray(y)
        out[f"{name}/p{j}"] = p
    for i in range(len(xs)):
        out[f"{name}/gx{i}"] = np.asarray(grads[i])
    # weights that get no gradient (None in Keras; the reverse call of an untied embedding)
    # are left out
    kept = [(w, g) for w, g in zip(trainable, grads[len(xs):]) if g is not None]
    out[f"{name}/gwpath"] = np.array([rel_path(w.path) for w, _ in kept], dtype="U64")
    for i, (_, g) in enumerate(kept):
        out[f"{name}/gw{i}"] = np.asarray(g)


def op_case(name, spec, out, rng):
    xs = [rng.standard_normal(s).astype(np.float32) for s in spec["args"]]
    kwargs = case_kwargs(name, spec, "kwargs", out, rng)
    for i, x in enumerate(xs):
        out[f"{name}/x{i}"] = x
    tx = [tf.constant(x) for x in xs]
    with tf.GradientTape() as tape:
        tape.watch(tx)
        y = call_op(keras.ops, spec, tx, kwargs)
        p = rng.standard_normal(tuple(y.shape)).astype(np.float32)
        loss = tf.reduce_sum(y * p)
    grads = tape.gradient(loss, tx)
    out[f"{name}/y0"] = np.asarray(y)
    out[f"{name}/p0"] = p
    for i, g in enumerate(grads):
        out[f"{name}/gx{i}"] = np.asarray(g)


def main() -> None:
    out = {}
    for i, (name, spec) in enumerate(sorted(LAYER_CASES.items())):
        keras.utils.set_random_seed(i)
        layer_case(name, spec, out, np.random.default_rng(100 + i))
    for i, (name, spec) in enumerate(sorted(OP_CASES.items())):
        op_case(name, spec, out, np.random.default_rng(500 + i))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attn.npz")
    np.savez_compressed(path, **out)
    print(f"wrote {path}: {len(out)} arrays, {os.path.getsize(path)} bytes, keras "
          f"{keras.__version__}")


if __name__ == "__main__":
    main()
