"""nnforge._cpu losses (Keras semantics) and their gradients against reference.py."""
import numpy as np
import pytest

from nnforge import _cpu
from tests.kernels import reference as ref

RNG = np.random.default_rng(5)


def probs(N, C, rng=RNG):
    p = rng.random((N, C)).astype(np.float32) + 0.05
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def onehot(labels, C):
    t = np.zeros((labels.shape[0], C), np.float32)
    t[np.arange(labels.shape[0]), labels] = 1
    return t


def call(fn, *args, want_grad=True, N, C):
    losses = np.full((N,), np.nan, np.float32)
    grad = np.full((N, C), np.nan, np.float32) if want_grad else None
    fn(*args[:2], losses, grad, *args[2:])
    return losses, grad


SHAPES = [(1, 1), (1, 2), (5, 3), (32, 10), (0, 4), (300, 129)]


@pytest.mark.parametrize("N,C", SHAPES)
@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical(N, C, from_logits):
    scale = 1.0 / max(N, 1)
    y_pred = (RNG.standard_normal((N, C)) * 3).astype(np.float32) if from_logits else probs(N, C)
    t = RNG.random((N, C)).astype(np.float32)  # soft targets (sum != 1 exercises the general form)
    losses, grad = call(_cpu.categorical_crossentropy, t, y_pred, from_logits, scale, N=N, C=C)
    l_ref, g_ref = ref.categorical_crossentropy(t, y_pred, from_logits, scale)
    np.testing.assert_allclose(losses, l_ref, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(grad, g_ref, rtol=2e-5, atol=2e-6)
    losses2, _ = call(_cpu.categorical_crossentropy, t, y_pred, from_logits, scale, N=N, C=C,
                      want_grad=False)
    np.testing.assert_array_equal(losses2, losses)


@pytest.mark.parametrize("N,C", SHAPES)
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical(N, C, from_logits):
    scale = 0.5
    y_pred = (RNG.standard_normal((N, C)) * 3).astype(np.float32) if from_logits else probs(N, C)
    labels = RNG.integers(0, C, N).astype(np.int64)
    losses, grad = call(_cpu.sparse_categorical_crossentropy, labels, y_pred, from_logits, scale,
                        N=N, C=C)
    l_ref, g_ref = ref.sparse_categorical_crossentropy(labels, y_pred, from_logits, scale)
    np.testing.assert_allclose(losses, l_ref, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(grad, g_ref, rtol=2e-5, atol=2e-6)
    # same as the dense loss with one-hot targets
    ld, gd = call(_cpu.categorical_crossentropy, onehot(labels, C), y_pred, from_logits, scale,
                  N=N, C=C)
    np.testing.assert_allclose(losses, ld, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(grad, gd, rtol=1e-5, atol=1e-7)


def test_crossentropy_probabilities_need_clipping():
    # zeros, exact ones and unnormalised rows: normalised by the row sum, then clipped
    y_pred = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [2.0, 1.0, 1.0], [0.0, 0.0, 3.0]],
                      np.float32)
    labels = np.array([0, 0, 1, 2], np.int64)
    t = onehot(labels, 3)
    for fn, first in ((_cpu.categorical_crossentropy, t), (_cpu.sparse_categorical_crossentropy, labels)):
        losses, grad = call(fn, first, y_pred, False, 1.0, N=4, C=3)
        l_ref, g_ref = ref.categorical_crossentropy(t, y_pred, False, 1.0)
        assert np.all(np.isfinite(losses)) and np.all(np.isfinite(grad))
        np.testing.assert_allclose(losses[0], -np.log(1e-7), rtol=1e-5)  # log(eps) cap
        np.testing.assert_allclose(losses, l_ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(grad, g_ref, rtol=1e-5, atol=1e-6)


def test_crossentropy_large_logits_stable():
    z = np.array([[1000.0, -1000.0, 0.0], [-1e4, -1e4, -1e4], [88.0, 89.0, 3e38]], np.float32)
    labels = np.array([1, 2, 0], np.int64)
    losses, grad = call(_cpu.sparse_categorical_crossentropy, labels, z, True, 1.0, N=3, C=3)
    l_ref, g_ref = ref.sparse_categorical_crossentropy(labels, z, True, 1.0)
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(losses, l_ref.astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(grad, g_ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("N,D", SHAPES)
@pytest.mark.parametrize("from_logits", [False, True])
def test_binary(N, D, from_logits):
    scale = 1.0 / max(N, 1)
    if from_logits:
        y_pred = (RNG.standard_normal((N, D)) * 4).astype(np.float32)
    else:
        y_pred = RNG.uniform(0.01, 0.99, (N, D)).astype(np.float32)
    t = RNG.random((N, D)).astype(np.float32)
    losses, grad = call(_cpu.binary_crossentropy, t, y_pred, from_logits, scale, N=N, C=D)
    l_ref, g_ref = ref.binary_crossentropy(t, y_pred, from_logits, scale)
    np.testing.assert_allclose(losses, l_ref, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(grad, g_ref, rtol=2e-5, atol=2e-6)


def test_binary_edges():
    p = np.array([[0.0, 1.0, 1e-9, 1 - 1e-9, 0.5]], np.float32)  # need clipping
    t = np.array([[1.0, 0.0, 1.0, 0.0, 1.0]], np.float32)
    losses, grad = call(_cpu.binary_crossentropy, t, p, False, 1.0, N=1, C=5)
    l_ref, g_ref = ref.binary_crossentropy(t, p, False, 1.0)
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(losses, l_ref, rtol=1e-5)
    np.testing.assert_allclose(grad, g_ref, rtol=1e-5, atol=1e-7)
    z = np.array([[1e4, -1e4, 100.0, -100.0, 0.0]], np.float32)  # large logits
    losses, grad = call(_cpu.binary_crossentropy, t, z, True, 1.0, N=1, C=5)
    l_ref, g_ref = ref.binary_crossentropy(t, z, True, 1.0)
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(losses, l_ref, rtol=1e-6)
    np.testing.assert_allclose(grad, g_ref, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("N,D", SHAPES)
def test_mse(N, D):
    t = RNG.standard_normal((N, D)).astype(np.float32)
    p = RNG.standard_normal((N, D)).astype(np.float32)
    losses = np.empty((N,), np.float32)
    grad = np.empty((N, D), np.float32)
    _cpu.mean_squared_error(t, p, losses, grad, 0.25)
    l_ref, g_ref = ref.mean_squared_error(t, p, 0.25)
    np.testing.assert_allclose(losses, l_ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, g_ref, rtol=1e-6, atol=1e-7)
    _cpu.mean_squared_error(t, p, losses, None, 0.25)
    np.testing.assert_allclose(losses, l_ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("from_logits", [False, True])
def test_gradients_match_finite_differences(from_logits):
    rng = np.random.default_rng(3)
    N, C = 3, 4
    y = (rng.standard_normal((N, C))).astype(np.float64)
    if not from_logits:
        y = rng.uniform(0.1, 0.9, (N, C))
    t = rng.random((N, C))
    labels = rng.integers(0, C, N)
    for name, first in (("categorical_crossentropy", t), ("sparse_categorical_crossentropy", labels),
                        ("binary_crossentropy", t)):
        _, g = call(getattr(_cpu, name), first.astype(np.int64 if first is labels else np.float32),
                    y.astype(np.float32), from_logits, 1.0, N=N, C=C)
        fd = np.zeros_like(y)
        h = 1e-6
        for idx in np.ndindex(*y.shape):
            yp, ym = y.copy(), y.copy()
            yp[idx] += h
            ym[idx] -= h
            f = getattr(ref, name)
            fd[idx] = (f(first, yp, from_logits)[0].sum() - f(first, ym, from_logits)[0].sum()) / (2 * h)
        np.testing.assert_allclose(g, fd, rtol=1e-3, atol=1e-4, err_msg=name)


# ---- bad input ------------------------------------------------------------------------------


def test_bad_inputs():
    N, C = 4, 3
    p = probs(N, C)
    t = onehot(np.array([0, 1, 2, 0]), C)
    losses = np.empty((N,), np.float32)
    grad = np.empty((N, C), np.float32)
    labels = np.array([0, 1, 2, 0], np.int64)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy.*label 3"):
        _cpu.sparse_categorical_crossentropy(np.array([0, 1, 3, 0], np.int64), p, losses, grad, False, 1.0)
    with pytest.raises(ValueError, match="label -1"):
        _cpu.sparse_categorical_crossentropy(np.array([0, -1, 2, 0], np.int64), p, losses, grad, True, 1.0)
    with pytest.raises(ValueError, match="int64"):
        _cpu.sparse_categorical_crossentropy(labels.astype(np.int32), p, losses, grad, True, 1.0)
    with pytest.raises(ValueError, match="'labels'"):
        _cpu.sparse_categorical_crossentropy(labels[:3].copy(), p, losses, grad, True, 1.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.sparse_categorical_crossentropy(np.zeros(8, np.int64)[::2], p, losses, None, True, 1.0)
    with pytest.raises(ValueError, match="label 0 .*C = 0"):
        _cpu.sparse_categorical_crossentropy(labels, np.empty((4, 0), np.float32), losses, None, True, 1.0)
    with pytest.raises(ValueError, match="categorical_crossentropy.*same shape"):
        _cpu.categorical_crossentropy(t[:, :2].copy(), p, losses, grad, False, 1.0)
    with pytest.raises(ValueError, match="'losses'"):
        _cpu.categorical_crossentropy(t, p, np.empty((3,), np.float32), grad, False, 1.0)
    with pytest.raises(ValueError, match="'grad'"):
        _cpu.binary_crossentropy(t, p, losses, np.empty((4, 4), np.float32), False, 1.0)
    with pytest.raises(ValueError, match="float32"):
        _cpu.mean_squared_error(t.astype(np.float64), p, losses, grad, 1.0)
    with pytest.raises(ValueError, match="2-D"):
        _cpu.mean_squared_error(t.reshape(-1), p.reshape(-1), losses, None, 1.0)
    ro = np.empty((N,), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _cpu.mean_squared_error(t, p, ro, None, 1.0)
    with pytest.raises(ValueError, match="share memory"):
        _cpu.mean_squared_error(t, p, losses, p, 1.0)
