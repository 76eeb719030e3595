"""ops.erfc, ops.erfinv and ops.divide_no_nan against Keras 3 goldens (values and gradients of
sum(y*y); tests/golden/make_special_golden.py) and finite differences."""
from pathlib import Path

import numpy as np

import nnforge as keras
from nnforge import ops
from tests.helpers import check_grads

G = np.load(Path(__file__).resolve().parents[1] / "golden" / "special_ops.npz")


def value_and_grads(fn, *arrays):
    xs = [keras.Variable(a) for a in arrays]
    with keras.GradientTape() as tape:
        y = fn(*xs)
        loss = ops.sum(y * y)
    return y.numpy(), [np.asarray(g) for g in tape.gradient(loss, xs)]


def test_erfc_matches_keras():
    y, (dx,) = value_and_grads(ops.erfc, G["erfc_x"])
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, G["erfc_y"], rtol=2e-6, atol=1e-30)  # accurate in the tail
    np.testing.assert_allclose(dx, G["erfc_dx"], rtol=1e-5, atol=1e-12)


def test_erfinv_matches_keras():
    y, (dx,) = value_and_grads(ops.erfinv, G["erfinv_x"])
    np.testing.assert_allclose(y, G["erfinv_y"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(dx, G["erfinv_dx"], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(ops.erfinv(np.array([1.0, -1.0, 1.5], "float32")).numpy(),
                                  G["erfinv_edges"])
    # erfinv inverts erf
    p = np.linspace(-0.99, 0.99, 11)
    np.testing.assert_allclose(ops.erf(ops.erfinv(p)).numpy(), p, atol=1e-12)


def test_divide_no_nan_matches_keras():
    y, (da, db) = value_and_grads(ops.divide_no_nan, G["dnn_a"], G["dnn_b"])
    np.testing.assert_allclose(y, G["dnn_y"], rtol=1e-6)
    np.testing.assert_allclose(da, G["dnn_da"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(db, G["dnn_db"], rtol=1e-5, atol=1e-6)
    got = ops.divide_no_nan(np.array([3, 4], "int32"), np.array([0, 2], "int32")).numpy()
    np.testing.assert_array_equal(got, G["dnn_int"])
    assert got.dtype == G["dnn_int"].dtype


def test_gradients_against_finite_differences():
    rng = np.random.default_rng(1)
    check_grads(ops.erfc, [rng.uniform(-2, 2, (5,))])
    check_grads(ops.erfinv, [rng.uniform(-0.8, 0.8, (5,))])
    check_grads(ops.divide_no_nan, [rng.standard_normal((3,)), rng.uniform(0.5, 2, (3,))])
