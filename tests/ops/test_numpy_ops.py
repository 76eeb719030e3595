"""The NumPy-style, linalg and fft ops against Keras 3 (TensorFlow backend) golden outputs
(tests/golden/opsnp.npz, made by tests/golden/make_opsnp_golden.py from the calls in
tests/golden/opsnp_cases.py): values within float32 rounding and Keras's result dtypes."""
import os

import numpy as np
import pytest

from nnforge import ops
from tests.golden.opsnp_cases import CASES, VECTORIZE, flat

GOLDEN = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "opsnp.npz"))


def _dtype(o):
    if isinstance(o, (bool, int, float)):
        return type(o).__name__
    return np.dtype(o.dtype).name


def _compare(key, got, want, how):
    got = np.asarray(got)
    assert got.shape == want.shape, f"{key}: shape {got.shape}, Keras {want.shape}"
    if want.dtype.kind in "biu" or want.dtype == bool:
        np.testing.assert_array_equal(got, want, err_msg=key)
        return
    if how == "abs":
        got, want = np.abs(got), np.abs(want)
    rtol = 1e-4 if how in ("abs", "loose") else 2e-5
    scale = max(1.0, float(np.nanmax(np.abs(want[np.isfinite(want)])))) if np.isfinite(
        want).any() else 1.0
    atol = (1e-4 if how in ("abs", "loose") else 2e-6) * scale
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=key)


@pytest.mark.parametrize("key,name,args,kwargs,how", CASES, ids=[c[0] for c in CASES])
def test_matches_keras(key, name, args, kwargs, how):
    if f"{key}/0" not in GOLDEN:
        pytest.skip("Keras (TensorFlow backend) rejects this call")
    outs = flat(getattr(ops, name)(*args, **kwargs))
    n_ref = len([k for k in GOLDEN.files if k.startswith(key + "/") and k.count("/") == 1])
    assert len(outs) == n_ref, f"{key}: {len(outs)} outputs, Keras has {n_ref}"
    for i, o in enumerate(outs):
        want = GOLDEN[f"{key}/{i}"]
        assert _dtype(o) == str(GOLDEN[f"{key}/{i}/dtype"]), \
            f"{key}/{i}: dtype {_dtype(o)}, Keras {GOLDEN[f'{key}/{i}/dtype']}"
        _compare(f"{key}/{i}", o.numpy() if hasattr(o, "numpy") else o, want, how)


@pytest.mark.parametrize("key,seq,stride,nfft,kw", [
    ("istft", 8, 4, 16, {}), ("istft_hamming", 10, 3, 10, {"window": "hamming", "center": False}),
    ("istft_len", 8, 2, 8, {"length": 30})])
def test_istft_matches_keras(key, seq, stride, nfft, kw):
    y = ops.istft((GOLDEN[f"{key}/in0"], GOLDEN[f"{key}/in1"]), seq, stride, nfft, **kw)
    assert y.dtype == str(GOLDEN[f"{key}/0/dtype"])
    _compare(key, y.numpy(), GOLDEN[f"{key}/0"], "loose")


@pytest.mark.parametrize("key,pyfunc,kw,args", VECTORIZE, ids=[v[0] for v in VECTORIZE])
def test_vectorize_matches_numpy(key, pyfunc, kw, args):
    outs = flat(ops.vectorize(pyfunc, **kw)(*args))
    want = flat(np.vectorize(pyfunc, **kw)(*args))
    assert len(outs) == len(want)
    for i, (o, w) in enumerate(zip(outs, want)):
        assert o.dtype == "float32"
        _compare(f"{key}/{i}", o.numpy(), np.asarray(w, np.float32), "")
