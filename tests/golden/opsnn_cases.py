"""Compare nnforge against the Keras 3 golden outputs in opsnn.npz (make_opsnn_golden.py):
values and the gradients of ``sum(y * proj)`` under ``GradientTape``."""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Callable

import numpy as np

import nnforge
from nnforge import ops
from nnforge.core.tensor import Tensor

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "opsnn.npz")


@lru_cache(maxsize=1)
def golden() -> dict:
    with np.load(PATH) as z:
        return {k: z[k] for k in z.files}


def inputs(key: str) -> list:
    g = golden()
    out, i = [], 0
    while f"{key}/in{i}" in g:
        out.append(g[f"{key}/in{i}"])
        i += 1
    return out


def outputs(key: str) -> list:
    g = golden()
    if f"{key}/y" in g:
        return [g[f"{key}/y"]]
    out, j = [], 0
    while f"{key}/y{j}" in g:
        out.append(g[f"{key}/y{j}"])
        j += 1
    assert out, f"no golden output for {key!r}"
    return out


def check_case(key: str, fn: Callable, rtol: float = 1e-5, atol: float = 1e-5,
               grad_rtol: float = 1e-4, grad_atol: float = 1e-5, check_dtype: bool = False):
    """Run ``fn`` on the golden inputs; compare outputs and (where stored) gradients."""
    g = golden()
    arrays = inputs(key)
    tensors = [Tensor(np.array(a)) for a in arrays]
    want = outputs(key)
    projs = [g.get(f"{key}/proj" + ("" if len(want) == 1 else str(j))) for j in range(len(want))]
    with nnforge.GradientTape() as tape:
        tape.watch([t for t in tensors if t.data.dtype.kind == "f"])
        out = fn(*tensors)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        assert len(outs) == len(want), f"{key}: {len(outs)} outputs, Keras gives {len(want)}"
        terms = [ops.sum(ops.multiply(ops.cast(o, "float32"), p))
                 for o, p in zip(outs, projs) if p is not None]
        loss = terms[0] if terms else None
        for t in terms[1:]:
            loss = ops.add(loss, t)
    for j, (o, w) in enumerate(zip(outs, want)):
        got = np.asarray(o)
        assert got.shape == w.shape, f"{key} output {j}: shape {got.shape}, Keras {w.shape}"
        if check_dtype:
            assert got.dtype == w.dtype, f"{key} output {j}: dtype {got.dtype}, Keras {w.dtype}"
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(got, w, err_msg=f"{key} output {j}")
        else:
            np.testing.assert_allclose(got, w, rtol=rtol, atol=atol, err_msg=f"{key} output {j}")
    gkeys = [f"{key}/g{i}" for i in range(len(arrays)) if f"{key}/g{i}" in g]
    if not gkeys or loss is None:
        return
    grads = tape.gradient(loss, tensors)
    for i in range(len(arrays)):
        k = f"{key}/g{i}"
        if k not in g:
            continue
        assert grads[i] is not None, f"{key}: no gradient for input {i}"
        scale = max(1.0, float(np.abs(g[k]).max()))
        np.testing.assert_allclose(np.asarray(grads[i]), g[k], rtol=grad_rtol,
                                   atol=grad_atol * scale, err_msg=f"{key} gradient {i}")
