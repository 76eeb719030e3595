"""GradientTape semantics (tf.GradientTape's): watching, persistence, structures."""
import numpy as np
import pytest

import nnforge
from nnforge import ops


def test_variables_are_watched_automatically():
    w = nnforge.Variable(np.array([[1.0, 2.0], [3.0, 4.0]], dtype="float32"))
    x = np.array([[1.0, 1.0]], dtype="float32")
    with nnforge.GradientTape() as tape:
        y = ops.sum(ops.matmul(x, w))
    g = tape.gradient(y, w)
    np.testing.assert_allclose(g.numpy(), np.ones((2, 2)))


def test_watch_constant_and_structures():
    x = ops.convert_to_tensor(np.array([1.0, 2.0, 3.0]))
    with nnforge.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.square(x))
    grads = tape.gradient(y, {"x": x, "again": [x]})
    np.testing.assert_allclose(grads["x"].numpy(), [2, 4, 6])
    np.testing.assert_allclose(grads["again"][0].numpy(), [2, 4, 6])


def test_unwatched_and_unconnected():
    x = ops.convert_to_tensor(np.ones(3))
    v = nnforge.Variable(np.ones(3, "float32"))
    with nnforge.GradientTape() as tape:
        y = ops.sum(ops.multiply(x, 2.0))
    assert tape.gradient(y, x) is None
    with nnforge.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x)
    g = tape.gradient(y, [x, v], unconnected_gradients="zero")
    np.testing.assert_allclose(g[1].numpy(), np.zeros(3))


def test_non_persistent_tape_is_single_use_and_persistent_is_not():
    v = nnforge.Variable(np.ones(2, "float32"))
    with nnforge.GradientTape() as tape:
        y = ops.sum(ops.square(v))
    tape.gradient(y, v)
    with pytest.raises(RuntimeError):
        tape.gradient(y, v)
    with nnforge.GradientTape(persistent=True) as tape:
        y = ops.sum(ops.square(v))
        z = ops.sum(ops.exp(v))
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [2, 2])
    np.testing.assert_allclose(tape.gradient(z, v).numpy(), np.exp([1, 1]), rtol=1e-6)


def test_watch_accessed_variables_false_and_stop_recording():
    v = nnforge.Variable(np.ones(2, "float32"))
    with nnforge.GradientTape(watch_accessed_variables=False) as tape:
        y = ops.sum(ops.square(v))
    assert tape.gradient(y, v) is None
    with nnforge.GradientTape() as tape:
        with tape.stop_recording():
            y = ops.sum(ops.square(v))
    assert tape.gradient(y, v) is None


def test_gradient_accumulates_over_reuse_and_operators():
    v = nnforge.Variable(np.array([3.0], "float32"))
    with nnforge.GradientTape() as tape:
        y = v * v + 2 * v - v / 2.0
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), [2 * 3 + 2 - 0.5])


def test_watch_rejects_arrays():
    with nnforge.GradientTape() as tape:
        with pytest.raises(ValueError, match="convert_to_tensor"):
            tape.watch(np.ones(3))


def test_layer_weights_train_with_apply_gradients():
    layer = nnforge.layers.Dense(1, use_bias=False, kernel_initializer="ones")
    opt = nnforge.optimizers.SGD(learning_rate=0.1)
    x = np.array([[1.0, 2.0]], dtype="float32")
    with nnforge.GradientTape() as tape:
        loss = ops.sum(layer(x))
    grads = tape.gradient(loss, layer.trainable_weights)
    opt.apply_gradients(zip(grads, layer.trainable_weights))
    np.testing.assert_allclose(layer.kernel.numpy(), [[0.9], [0.8]], rtol=1e-6)
