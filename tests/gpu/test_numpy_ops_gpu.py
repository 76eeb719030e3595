"""The NumPy-style, linalg and fft ops on CuPy arrays: every golden case of
tests/golden/opsnp_cases.py run with its array arguments on the GPU (and the current device set
to 'cuda') gives the CPU's result, dtype and (for the gradient cases) gradients. Skipped without
a GPU (see conftest.py)."""
from __future__ import annotations

import numpy as np
import pytest

from tests.golden.opsnp_cases import CASES, GRAD_CASES, flat, grad_projection
from tests.helpers import op_case_gradients


def _to_gpu(a):
    import cupy
    if isinstance(a, np.ndarray):
        return cupy.asarray(a)
    if isinstance(a, tuple):
        return tuple(_to_gpu(b) for b in a)
    if isinstance(a, list):
        return [_to_gpu(b) for b in a]
    return a


def _host(o):
    from nnforge import backend
    return backend.to_numpy(o.data) if hasattr(o, "data") else np.asarray(o)


@pytest.fixture
def on_gpu():
    import nnforge
    saved = nnforge.config.get_device()
    nnforge.config.set_device("cuda")
    yield
    nnforge.config.set_device(saved)


@pytest.mark.parametrize("key,name,args,kwargs,how", CASES, ids=[c[0] for c in CASES])
def test_case_on_gpu_matches_cpu(key, name, args, kwargs, how, on_gpu):
    from nnforge import ops
    try:
        want = flat(getattr(ops, name)(*args, **kwargs))
    except Exception as e:  # noqa: BLE001 - the CPU rejects it too: so must the GPU
        with pytest.raises(type(e)):
            getattr(ops, name)(*_to_gpu(args), **kwargs)
        return
    got = flat(getattr(ops, name)(*_to_gpu(args), **kwargs))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert getattr(g, "dtype", type(g)) == getattr(w, "dtype", type(w)), key
        gh, wh = _host(g), _host(w)
        if how == "abs":
            gh, wh = np.abs(gh), np.abs(wh)
        np.testing.assert_allclose(gh, wh, rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("key,name,args,kwargs", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_on_gpu_match_cpu(key, name, args, kwargs, on_gpu):
    from nnforge import ops

    def grads(gpu):
        return [None if g is None else _host(g) for g in op_case_gradients(
            name, args, kwargs, lambda a: ops.convert_to_tensor(_to_gpu(a) if gpu else a),
            lambda i, o: grad_projection(tuple(o.shape), i))]

    if name in ("eigh", "svd"):
        pytest.skip("eigen/singular vector signs may differ between LAPACK and cuSOLVER")
    for g, w in zip(grads(True), grads(False)):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4, err_msg=key)
