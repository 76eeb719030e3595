"""nnforge._cpu activations, softmax and bias kernels against tests/kernels/reference.py."""
import numpy as np
import pytest

from nnforge import _cpu
from tests.helpers import at_thread_counts
from tests.kernels import reference as ref

RNG = np.random.default_rng(7)
ACTS = [0, 1, 2, 3]


def f32(*shape, scale=1.0, rng=RNG):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (3, 5), (2, 3, 4, 5), (1 << 18,), (33, 1000)])
def test_activation_forward(act, shape):
    x = f32(*shape, scale=4.0)
    y = np.full_like(x, np.nan)
    _cpu.activation_forward(x, y, act)
    np.testing.assert_allclose(y, ref.activation(x, act), rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("act", ACTS)
def test_activation_extremes(act):
    x = np.array([0.0, -0.0, 1e-30, -1e-30, 1e-4, -1e-4, 0.2499, 0.2501, -0.26, 5.0, -5.0,
                  20.0, -20.0, 88.0, -88.0, 100.0, -100.0, 1e30, -1e30, np.inf, -np.inf],
                 np.float32)
    y = np.empty_like(x)
    _cpu.activation_forward(x, y, act)
    with np.errstate(over="ignore"):
        want = ref.activation(x, act)
    assert np.all(np.isfinite(y) == np.isfinite(want))
    fin = np.isfinite(want)
    np.testing.assert_allclose(y[fin], want[fin], rtol=3e-6, atol=1e-30)
    if act in (2, 3):  # bounded outputs stay in range
        lo = 0.0 if act == 2 else -1.0
        assert np.all((y >= lo) & (y <= 1.0))


@pytest.mark.parametrize("act", ACTS)
def test_activation_nan_propagates(act):
    x = np.array([np.nan, 1.0], np.float32)
    y = np.empty_like(x)
    _cpu.activation_forward(x, y, act)
    if act == 1:
        assert y[1] == 1.0  # relu(NaN) is unspecified: only check the other entry
    else:
        assert np.isnan(y[0])


@pytest.mark.parametrize("act", ACTS)
def test_activation_in_place(act):
    x = f32(5, 17, scale=3.0)
    want = ref.activation(x, act)
    _cpu.activation_forward(x, x, act)
    np.testing.assert_allclose(x, want, rtol=2e-6, atol=2e-7)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("shape", [(0, 3), (1,), (31, 7), (1 << 18,)])
def test_activation_backward(act, shape):
    y = ref.activation(f32(*shape, scale=2.0), act).astype(np.float32)
    dy = f32(*shape)
    dx = np.empty_like(dy)
    _cpu.activation_backward(y, dy, dx, act)
    np.testing.assert_allclose(dx, ref.activation_grad(y, dy, act), rtol=1e-6, atol=1e-7)
    # in place on dy
    want = dx.copy()
    _cpu.activation_backward(y, dy, dy, act)
    np.testing.assert_array_equal(dy, want)


@pytest.mark.parametrize("shape", [(1, 1), (3, 1), (4, 10), (7, 33), (256, 1000), (0, 5)])
def test_softmax_forward(shape):
    x = f32(*shape, scale=5.0)
    y = np.empty_like(x)
    _cpu.softmax_forward(x, y)
    np.testing.assert_allclose(y, ref.softmax(x), rtol=1e-5, atol=1e-7)
    if shape[0]:
        np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)


def test_softmax_large_logits_stable():
    x = np.array([[1000.0, 999.0, -1000.0], [-1e30, -1e30, -1e30], [3e38, 0.0, -3e38],
                  [88.0, 89.0, 90.0], [-100.0, -200.0, -1e4]], np.float32)
    y = np.empty_like(x)
    _cpu.softmax_forward(x, y)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y, ref.softmax(x), rtol=1e-5, atol=1e-30)
    # in place
    _cpu.softmax_forward(x, x)
    np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("shape", [(1, 1), (5, 9), (300, 257), (0, 4)])
def test_softmax_backward(shape):
    y = ref.softmax(f32(*shape, scale=2.0)).astype(np.float32)
    dy = f32(*shape)
    dx = np.empty_like(dy)
    _cpu.softmax_backward(y, dy, dx)
    np.testing.assert_allclose(dx, ref.softmax_grad(y, dy), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (32, 10), (1000, 300), (3, 0)])
def test_bias_add(shape):
    y = f32(*shape)
    b = f32(shape[1])
    want = ref.bias_add(y, b)
    _cpu.bias_add(y, b)
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape", [(0, 3), (1, 1), (32, 10), (1023, 5), (1025, 5), (20000, 70)])
def test_bias_grad(shape):
    dy = f32(*shape)
    db = np.full((shape[1],), np.nan, np.float32)
    _cpu.bias_grad(dy, db)
    np.testing.assert_allclose(db, ref.bias_grad(dy), rtol=1e-4, atol=1e-4 * np.sqrt(shape[0] + 1))


def test_bias_grad_thread_count_independent():
    dy = f32(50000, 37)

    def bias_grad():
        db = np.empty((37,), np.float32)
        _cpu.bias_grad(dy, db)
        return db

    out = at_thread_counts(bias_grad)
    np.testing.assert_array_equal(out[0], out[1])
    np.testing.assert_array_equal(out[0], out[2])


# ---- bad input ------------------------------------------------------------------------------


def test_bad_inputs_raise_value_error():
    x = f32(4, 5)
    y = np.empty_like(x)
    with pytest.raises(ValueError, match="activation_forward.*'x'.*float32"):
        _cpu.activation_forward(x.astype(np.float64), y, 1)
    with pytest.raises(ValueError, match="C-contiguous"):
        _cpu.activation_forward(np.asfortranarray(f32(4, 5)), y, 1)
    with pytest.raises(ValueError, match="same shape"):
        _cpu.activation_forward(x, np.empty((5, 4), np.float32), 1)
    with pytest.raises(ValueError, match="act"):
        _cpu.activation_forward(x, y, 4)
    with pytest.raises(ValueError, match="act"):
        _cpu.activation_forward(x, y, -1)
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        _cpu.activation_forward(x, ro, 0)
    flat = f32(20)
    with pytest.raises(ValueError, match="overlap"):  # partial overlap (exact alias is fine)
        _cpu.activation_forward(flat[:10], flat[5:15], 0)
    with pytest.raises(ValueError, match="activation_backward"):
        _cpu.activation_backward(x, x, np.empty((4, 6), np.float32), 2)
    with pytest.raises(ValueError, match="softmax_forward.*2-D"):
        _cpu.softmax_forward(f32(2, 3, 4), np.empty((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="softmax_backward"):
        _cpu.softmax_backward(x, x[:, :4].copy(), np.empty_like(x))
    with pytest.raises(ValueError, match="bias_add.*'bias'"):
        _cpu.bias_add(x, f32(4))
    with pytest.raises(ValueError, match="bias_grad.*'db'"):
        _cpu.bias_grad(x, np.empty((4,), np.float32))
    with pytest.raises(ValueError, match="int64|float32"):
        _cpu.bias_grad(x, np.empty((5,), np.int64))
    with pytest.raises(TypeError):
        _cpu.activation_forward([1.0, 2.0], y, 0)
    with pytest.raises(TypeError):
        _cpu.bias_add(x, None)
