"""Shared test helpers: finite-difference gradient checks through nnforge.GradientTape."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

import nnforge
from nnforge import ops


def tape_grads(fn: Callable, arrays: Sequence[np.ndarray], proj: np.ndarray):
    """Gradients of sum(fn(*tensors) * proj) with respect to each input array."""
    tensors = [ops.convert_to_tensor(a.astype(np.float32)) for a in arrays]
    with nnforge.GradientTape() as tape:
        tape.watch(tensors)
        out = fn(*tensors)
        loss = ops.sum(ops.multiply(out, proj.astype(np.float32)))
    grads = tape.gradient(loss, tensors)
    return [None if g is None else g.numpy().astype(np.float64) for g in grads]


def numeric_grads(fn: Callable, arrays: Sequence[np.ndarray], proj: np.ndarray,
                  eps: float = 1e-2, which=None):
    """Central differences of sum(fn(*arrays) * proj), evaluated in float32 by our kernels."""
    out = []
    for i, a in enumerate(arrays):
        if which is not None and i not in which:
            out.append(None)
            continue
        g = np.zeros(a.shape, dtype=np.float64)
        flat = a.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            fp = float(np.sum(np.asarray(fn(*[ops.convert_to_tensor(x.astype(np.float32))
                                              for x in arrays]), dtype=np.float64) * proj))
            flat[j] = orig - eps
            fm = float(np.sum(np.asarray(fn(*[ops.convert_to_tensor(x.astype(np.float32))
                                              for x in arrays]), dtype=np.float64) * proj))
            flat[j] = orig
            g.reshape(-1)[j] = (fp - fm) / (2 * eps)
        out.append(g)
    return out


def check_grads(fn: Callable, arrays: Sequence[np.ndarray], seed: int = 0, eps: float = 1e-2,
                rtol: float = 2e-2, atol: float = 2e-3, which=None) -> None:
    """Assert tape gradients of fn match central finite differences for every input."""
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    out = np.asarray(fn(*[ops.convert_to_tensor(a.astype(np.float32)) for a in arrays]))
    proj = rng.standard_normal(out.shape)
    analytic = tape_grads(fn, arrays, proj)
    numeric = numeric_grads(fn, arrays, proj, eps, which)
    for i, (ga, gn) in enumerate(zip(analytic, numeric)):
        if gn is None:
            continue
        assert ga is not None, f"input {i}: no gradient from the tape"
        scale = max(1.0, float(np.abs(gn).max()))
        np.testing.assert_allclose(ga, gn, rtol=rtol, atol=atol * scale,
                                   err_msg=f"gradient of input {i} differs from finite differences")


def check_layer_grads(layer, x: np.ndarray, seed: int = 0, eps: float = 1e-3,
                      rtol: float = 2e-2, atol: float = 2e-3, training=None) -> None:
    """Assert the tape's gradients of a layer's output (randomly projected) with respect to its
    input and to each trainable weight match central finite differences."""
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float32)
    kwargs = {} if training is None else {"training": training}
    if not layer.built:
        # Weights drawn on the first call: seed them, so the check does not depend on what ran
        # before (a ReLU pre-activation within eps of 0 would make finite differences wrong).
        nnforge.utils.set_random_seed(seed)
    out = np.asarray(layer(x, **kwargs))
    proj = rng.standard_normal(out.shape).astype(np.float32)

    def value() -> float:
        return float(np.sum(np.asarray(layer(x, **kwargs), dtype=np.float64) * proj))

    xt = ops.convert_to_tensor(x)
    weights = layer.trainable_weights
    with nnforge.GradientTape() as tape:
        tape.watch(xt)
        loss = ops.sum(ops.multiply(layer(xt, **kwargs), proj))
    grads = tape.gradient(loss, [xt] + list(weights))
    targets = [x] + [w.data for w in weights]
    for i, (arr, g) in enumerate(zip(targets, grads)):
        assert g is not None, f"{layer.name}: no gradient for target {i}"
        num = np.zeros(arr.shape)
        flat = arr.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            fp = value()
            flat[j] = orig - eps
            fm = value()
            flat[j] = orig
            num.reshape(-1)[j] = (fp - fm) / (2 * eps)
        scale = max(1.0, float(np.abs(num).max()))
        name = "input" if i == 0 else weights[i - 1].path
        np.testing.assert_allclose(g.numpy(), num, rtol=rtol, atol=atol * scale,
                                   err_msg=f"{layer.name}: gradient of {name} differs from "
                                           "finite differences")
