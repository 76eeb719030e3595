"""Properties of the NumPy-style ops that golden values cannot pin down (argpartition, eig,
lu_factor), Keras's dtype promotion table, the ops.numpy / ops.linalg namespaces, symbolic
(functional-API) use, and argument errors."""
import os

import numpy as np
import pytest

import nnforge
from nnforge import ops
from nnforge.ops._dtypes import result_type

GOLDEN = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "opsnp.npz"))
r = np.random.RandomState(3)


def test_result_type_matches_keras_table():
    names = [str(n) for n in GOLDEN["result_type/names"]]
    py = {"int": int, "float": float}
    table = GOLDEN["result_type/table"]
    for i, a in enumerate(names):
        assert result_type(py.get(a, a), float) == str(GOLDEN["result_type/with_float"][i]), a
        for j, b in enumerate(names):
            assert result_type(py.get(a, a), py.get(b, b)) == str(table[i, j]), (a, b)


def test_python_scalars_weak_where_keras_ops_keep_them_weak():
    x = np.array([1, 2], "int8")
    assert ops.fmax(np.array([1.0], "float16"), 2.0).dtype == "float16"  # weak
    assert ops.left_shift(x, 3).dtype == "int8"  # weak
    assert ops.bitwise_and(x, 3).dtype == "int32"  # converted first: int32
    assert ops.hypot(np.array([1.0], "float16"), 2.0).dtype == "float32"


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_argpartition_partitions(axis):
    x = r.randn(4, 7).astype("float32")
    k = 3
    idx = ops.argpartition(x, k, axis=axis).numpy()
    assert idx.dtype == np.int32
    if axis is None:
        vals = x.reshape(-1)[idx]
        srt = np.sort(x.reshape(-1))
    else:
        vals = np.take_along_axis(x, idx, axis=axis)
        srt = np.sort(x, axis=axis)
    vals = np.moveaxis(vals, 0 if axis == 0 else -1, -1)
    srt = np.moveaxis(srt, 0 if axis == 0 else -1, -1)
    np.testing.assert_array_equal(vals[..., k], srt[..., k])
    assert (vals[..., :k] <= vals[..., k:k + 1]).all()
    assert (vals[..., k + 1:] >= vals[..., k:k + 1]).all()
    with pytest.raises(ValueError, match="kth"):
        ops.argpartition(x, 99)


def test_eig_reconstructs():
    a = r.randn(2, 4, 4).astype("float32")
    w, v = ops.eig(a)
    assert w.dtype == "complex64" and v.dtype == "complex64"
    w, v = w.numpy(), v.numpy()
    np.testing.assert_allclose(a @ v, v * w[..., None, :], atol=1e-4)


def test_lu_factor_reconstructs_batched():
    a = r.randn(2, 4, 4).astype("float32")
    lu, p = ops.lu_factor(a)
    lu, p = lu.numpy(), p.numpy()
    for b in range(2):
        low = np.tril(lu[b], -1) + np.eye(4)
        up = np.triu(lu[b])
        perm = np.argsort(p[b])  # the row order of P @ a
        np.testing.assert_allclose(a[b][perm], low @ up, atol=1e-5)


def test_namespaces_hold_the_same_functions():
    assert ops.numpy.arcsin is ops.arcsin and ops.numpy.add is ops.add
    assert ops.linalg.svd is ops.svd and ops.linalg.norm is ops.norm
    assert not hasattr(ops.linalg, "arcsin")
    from nnforge.ops.linalg import svd
    from nnforge.ops.numpy import hypot
    assert svd is ops.svd and hypot is ops.hypot  # the symbolic-aware functions
    np.testing.assert_allclose(ops.numpy.hypot([3.0], [4.0]).numpy(), [5.0])


def test_symbolic_tensors_in_a_functional_model():
    inp = nnforge.Input((3, 4))
    y = ops.rearrange(inp, "b h w -> b (w h)")
    z = ops.logaddexp(ops.cumsum(y, axis=1), ops.flipud(y))
    model = nnforge.Model(inp, [z, ops.nanmax(inp, axis=-1)])
    x = r.randn(2, 3, 4).astype("float32")
    out_z, out_m = model(x)
    yy = x.transpose(0, 2, 1).reshape(2, 12)
    np.testing.assert_allclose(out_z.numpy(), np.logaddexp(np.cumsum(yy, 1), yy[::-1]),
                               rtol=1e-5)
    np.testing.assert_allclose(out_m.numpy(), x.max(-1))


def test_rearrange_and_vectorize_differentiate():
    x = ops.convert_to_tensor(r.randn(2, 6))
    with nnforge.GradientTape() as tape:
        tape.watch(x)
        y = ops.rearrange(x, "b (h w) -> w (b h)", h=2)
        f = ops.vectorize(lambda m, v: ops.sum(ops.multiply(m, v)), signature="(n),(n)->()")
        z = f(y, np.arange(4.0))
        loss = ops.sum(ops.multiply(z, z))
    g = tape.gradient(loss, x).numpy()
    yy = x.numpy().reshape(2, 2, 3).transpose(2, 0, 1).reshape(3, 4)
    zz = yy @ np.arange(4.0)
    gy = 2 * zz[:, None] * np.arange(4.0)[None, :]
    np.testing.assert_allclose(g, gy.reshape(3, 2, 2).transpose(1, 2, 0).reshape(2, 6))


@pytest.mark.parametrize("call,err,match", [
    (lambda: ops.rearrange(np.zeros((2, 3)), "a b -> a c"), ValueError, "same"),
    (lambda: ops.rearrange(np.zeros((2, 3)), "a (b c) -> a b c"), ValueError, "infer"),
    (lambda: ops.rearrange(np.zeros((2, 3)), "a b c -> a b c"), ValueError, "shape"),
    (lambda: ops.cholesky(np.zeros((2, 3))), ValueError, "square"),
    (lambda: ops.cholesky(-np.eye(2)), ValueError, "positive definite"),
    (lambda: ops.solve(np.eye(3), np.ones((2, 1))), ValueError, "shape"),
    (lambda: ops.tensordot(np.ones((2, 3)), np.ones((4, 3)), axes=1), ValueError, "mismatch"),
    (lambda: ops.bitwise_and(np.ones(2), np.ones(2)), TypeError, "integer"),
    (lambda: ops.gcd(np.ones(2), np.ones(2)), TypeError, "integer"),
    (lambda: ops.ldexp(np.ones(2), np.ones(2)), TypeError, "integer"),
    (lambda: ops.quantile(np.ones(3), 1.5), ValueError, "q must"),
    (lambda: ops.quantile(np.ones(3), 0.5, method="bad"), ValueError, "method"),
    (lambda: ops.searchsorted(np.ones((2, 2)), [1.0]), ValueError, "1-D"),
    (lambda: ops.correlate(np.ones((2, 2)), np.ones(2)), ValueError, "1-D"),
    (lambda: ops.cross(np.ones(4), np.ones(3)), ValueError, "2 or 3"),
    (lambda: ops.diff(np.ones(3), n=-1), ValueError, "non-negative"),
    (lambda: ops.stft(np.ones(16, "int32"), 8, 4, 8), TypeError, "float32"),
    (lambda: ops.stft(np.ones(16, "float32"), 8, 4, 4), ValueError, "fft_length"),
    (lambda: ops.irfft(np.ones(4)), ValueError, "tuple"),
    (lambda: ops.qr(np.ones((3, 3)), mode="r"), ValueError, "mode"),
    (lambda: ops.bincount(np.array([-1, 2])), ValueError, "non-negative"),
    (lambda: ops.bincount(np.array([1, 2]), sparse=True), ValueError, "sparse"),
    (lambda: ops.view_as_complex(np.ones((2, 3))), ValueError, "size 2"),
    (lambda: ops.vectorize(3), ValueError, "callable"),
])
def test_errors_name_the_op(call, err, match):
    with pytest.raises(err, match=match):
        call()


def _our_dtypes(call):
    try:
        out = call()
    except Exception:  # noqa: BLE001
        return "error"
    flat = list(out) if isinstance(out, (tuple, list)) else [out]
    return ",".join(o.dtype if hasattr(o, "dtype") else type(o).__name__ for o in flat)


def test_result_dtypes_over_input_dtypes_match_keras():
    from tests.golden.opsnp_cases import (SWEEP_BINARY, SWEEP_DTYPES, SWEEP_PARTNERS,
                                          SWEEP_UNARY, sweep_args, sweep_input, sweep_partner)
    bad = []
    for i, n in enumerate(SWEEP_UNARY):
        for j, d in enumerate(SWEEP_DTYPES):
            want = str(GOLDEN["sweep/unary"][i, j])
            if want != "error":
                got = _our_dtypes(lambda: getattr(ops, n)(*sweep_args(d, n)))
                if got != want:
                    bad.append(f"{n}({d}): {got}, Keras {want}")
    for i, n in enumerate(SWEEP_BINARY):
        for j, d in enumerate(SWEEP_DTYPES):
            for k, p in enumerate(SWEEP_PARTNERS):
                want = str(GOLDEN["sweep/binary"][i, j, k])
                if want != "error":
                    got = _our_dtypes(lambda: getattr(ops, n)(sweep_input(d, n),
                                                              sweep_partner(p, d, n)))
                    if got != want:
                        bad.append(f"{n}({d}, {p}): {got}, Keras {want}")
    assert not bad, f"{len(bad)} dtype mismatches:\n" + "\n".join(bad)


def test_values_over_input_dtypes_match_keras():
    from tests.golden.opsnp_cases import SWEEP_DTYPES, SWEEP_UNARY, sweep_args
    bad = []
    for i, n in enumerate(SWEEP_UNARY):
        vals = []
        for j, d in enumerate(SWEEP_DTYPES):
            if str(GOLDEN["sweep/unary"][i, j]) == "error":
                continue
            out = getattr(ops, n)(*sweep_args(d, n))
            out = list(out) if isinstance(out, (tuple, list)) else [out]
            vals += [np.asarray(o.numpy() if hasattr(o, "numpy") else o, np.complex128).ravel()
                     for o in out]
        got = np.concatenate(vals) if vals else np.zeros(0, complex)
        want = GOLDEN[f"sweep/values/{n}"]
        if n == "corrcoef":  # Keras-TF takes int64 means in integer arithmetic (-0.707 for -1)
            want = np.concatenate([want[:20], np.full(4, np.nan), want[24:]])
            got = np.concatenate([got[:20], np.full(4, np.nan), got[24:]])
        if n in ("eigh", "svd", "qr"):  # vectors up to sign
            got, want = np.abs(got), np.abs(want)
        if got.shape != want.shape or not np.allclose(got, want, rtol=2e-3, atol=1e-3,
                                                      equal_nan=True):
            bad.append(n)
    assert not bad, f"values differ from Keras for: {bad}"
