"""The training step's hot paths of ops.conv, ops.max_pool, ops.dense and Layer.__call__
(geometry cached by shapes and arguments, float32 C-contiguous operands used as they are) give
bit for bit what the plain paths give, and still refuse every bad argument with the same
error, before and after a valid call with the same shapes was cached."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers, ops
from nnforge.ops import nn as nn_ops


def _grads(fn, *args):
    """Value of ``sum(fn(*vars) * w)`` and the gradients of every argument (as Variables)."""
    vs = [keras.Variable(a) for a in args]
    with keras.GradientTape() as tape:
        y = fn(*vs)
        w = np.linspace(-1, 1, int(np.prod(y.shape)), dtype=np.float32).reshape(y.shape)
        loss = ops.sum(y * w)
    return np.asarray(y), [np.asarray(g) for g in tape.gradient(loss, vs)]


@pytest.fixture
def fresh_cache():
    nn_ops._GEOMETRY.clear()
    yield
    nn_ops._GEOMETRY.clear()


def test_conv_cached_geometry_is_bitwise_the_plain_path(fresh_cache):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 9, 8, 3)).astype(np.float32)
    w = rng.standard_normal((3, 2, 3, 5)).astype(np.float32)
    b = rng.standard_normal((5,)).astype(np.float32)
    for strides, padding, dil in [((1, 1), "valid", (1, 1)), (2, "same", 1), ((2, 1), "SAME", 1),
                                  (1, "valid", (2, 1))]:
        def f(x_, w_, b_):
            return ops.conv(x_, w_, strides, padding, dilation_rate=dil, bias=b_,
                            activation="relu")
        nn_ops._GEOMETRY.clear()
        y0, g0 = _grads(f, x, w, b)            # plain path, fills the cache
        assert nn_ops._GEOMETRY
        y1, g1 = _grads(f, x, w, b)            # cached geometry
        # float64 input: converted by the plain path; the same float32 values
        y2 = np.asarray(ops.conv(x.astype(np.float64), w, strides, padding, dilation_rate=dil,
                                 bias=b, activation="relu"))
        # list arguments (unhashable): the plain path
        y3 = np.asarray(ops.conv(x, w, list(np.broadcast_to(strides, 2)), padding,
                                 dilation_rate=list(np.broadcast_to(dil, 2)), bias=b,
                                 activation="relu"))
        np.testing.assert_array_equal(y0, y1)
        np.testing.assert_array_equal(y0, y2)
        np.testing.assert_array_equal(y0, y3)
        for a, c in zip(g0, g1):
            np.testing.assert_array_equal(a, c)


def test_conv_errors_still_raised_after_caching(fresh_cache):
    x = np.ones((1, 5, 5, 2), np.float32)
    w = np.ones((3, 3, 2, 4), np.float32)
    ops.conv(x, w, (1, 1), "valid")
    ops.conv(x, w, 1, "valid")
    assert nn_ops._GEOMETRY
    with pytest.raises(TypeError, match="strides"):  # a bare bool equals 1 but is refused
        ops.conv(x, w, True, "valid")
    with pytest.raises(TypeError, match="strides"):  # a bare float equals 1 but is refused
        ops.conv(x, w, 1.0, "valid")
    with pytest.raises(ValueError, match="padding"):
        ops.conv(x, w, 1, "full")
    with pytest.raises(ValueError, match="data_format"):
        ops.conv(x, w, 1, "valid", data_format="channels_first")
    with pytest.raises(ValueError, match="channels"):
        ops.conv(x, np.ones((3, 3, 3, 4), np.float32), 1, "valid")
    with pytest.raises(ValueError):
        ops.conv(np.ones((1, 2, 2, 2), np.float32), w, 1, "valid")  # output would be empty


def test_max_pool_cached_geometry_is_bitwise_the_plain_path(fresh_cache):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 7, 6, 3)).astype(np.float32)
    for pool, strides, padding in [(2, None, "valid"), ((3, 2), (2, 1), "same"), (2, 1, "valid")]:
        nn_ops._GEOMETRY.clear()

        def f(x_):
            return ops.max_pool(x_, pool, strides, padding)
        y0, g0 = _grads(f, x)
        y1, g1 = _grads(f, x)
        y2 = np.asarray(ops.max_pool(x.astype(np.float64), pool, strides, padding))
        np.testing.assert_array_equal(y0, y1)
        np.testing.assert_array_equal(y0, y2)
        np.testing.assert_array_equal(g0[0], g1[0])
    # 3-D input after a cached 4-D call: the N-d path
    assert ops.max_pool(np.ones((1, 4, 2), np.float32), 2).shape == (1, 2, 2)
    with pytest.raises(TypeError, match="pool_size"):
        ops.max_pool(x, True)
    with pytest.raises(ValueError, match="padding"):
        ops.max_pool(x, 2, None, "full")


def test_dense_hot_path_is_bitwise_the_plain_path():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    k = rng.standard_normal((6, 3)).astype(np.float32)
    b = rng.standard_normal((3,)).astype(np.float32)
    y0 = np.asarray(ops.dense(x, k, b, "relu"))
    y1 = np.asarray(ops.dense(x.astype(np.float64), k, b, "relu"))            # converted input
    y2 = np.asarray(ops.dense(np.asfortranarray(x), k, b.tolist(), "relu"))   # non-contiguous
    np.testing.assert_array_equal(y0, y1)
    np.testing.assert_array_equal(y0, y2)
    with pytest.raises(ValueError, match="last axis of the input has size 5"):
        ops.dense(np.ones((4, 5), np.float32), k)
    with pytest.raises(ValueError, match="last axis of the input has size 5"):
        ops.dense(np.ones((4, 5)), k)


def test_layer_call_fast_path_keeps_symbolic_and_mask_arguments():
    from nnforge.core.tensor import KerasTensor, Tensor
    d = layers.Dense(2)
    assert isinstance(d(np.ones((3, 4), np.float32), training=True), Tensor)
    assert isinstance(d(ops.convert_to_tensor(np.ones((3, 4), np.float32)), training=None),
                      Tensor)
    inp = keras.Input((4,))
    out = layers.Dense(2)(inp, training=True)
    assert isinstance(out, KerasTensor) and tuple(out.shape) == (None, 2)
    # a concrete mask keyword (not a flag) reaches a layer that takes it
    t = ops.convert_to_tensor(np.ones((2, 3, 4), np.float32))
    msk = np.array([[True, True, False], [True, False, False]])
    np.testing.assert_allclose(np.asarray(layers.GlobalAveragePooling1D()(t, mask=msk)),
                               np.ones((2, 4)))
