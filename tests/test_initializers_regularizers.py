"""Initializers' statistics, add_loss, max_norm / unit_norm, validation_freq."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import initializers, layers


@pytest.mark.parametrize("name,std", [
    ("he_normal", np.sqrt(2 / 400)), ("lecun_normal", np.sqrt(1 / 400)),
    ("glorot_normal", np.sqrt(2 / 700)), ("he_uniform", np.sqrt(2 / 400)),
    ("lecun_uniform", np.sqrt(1 / 400)), ("glorot_uniform", np.sqrt(2 / 700)),
    ("random_normal", 0.05), ("truncated_normal", 0.05 * 0.8796)])
def test_initializer_scales(name, std):
    keras.utils.set_random_seed(0)
    w = initializers.get(name)((400, 300))
    assert w.dtype == np.float32 and w.shape == (400, 300)
    assert abs(w.mean()) < 0.1 * std
    assert w.std() == pytest.approx(std, rel=0.05)


def test_orthogonal_constant_and_seeds():
    q = initializers.Orthogonal(seed=1)((6, 6))
    np.testing.assert_allclose(q @ q.T, np.eye(6), atol=1e-5)
    assert (initializers.Constant(3.0)((2, 2)) == 3).all()
    a = initializers.GlorotUniform(seed=5)((3, 3))
    b = initializers.GlorotUniform(seed=5)((3, 3))
    np.testing.assert_array_equal(a, b)
    t = initializers.TruncatedNormal(stddev=1.0, seed=0)((10000,))
    assert np.abs(t).max() <= 2.0


def test_add_loss_and_constraints():
    class Penalized(layers.Layer):
        def call(self, x):
            self.add_loss(keras.ops.multiply(0.0 + 1.5, keras.ops.mean(keras.ops.square(x))))
            return x

    m = keras.Sequential([keras.Input((3,)), layers.Dense(3, kernel_initializer="ones",
                                                         bias_initializer="zeros"),
                          Penalized()])
    m.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x = np.ones((2, 3), "float32")
    y = np.zeros((2, 3), "float32")
    assert m.train_on_batch(x, y) == pytest.approx(9.0 + 1.5 * 9.0, rel=1e-5)
    w = np.array([[3.0, 0.1], [4.0, 0.1]], "float32")
    np.testing.assert_allclose(np.linalg.norm(keras.constraints.MaxNorm(2.0)(w), axis=0),
                               [2.0, np.linalg.norm(w[:, 1])], rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(keras.constraints.UnitNorm()(w), axis=0), [1, 1],
                               rtol=1e-5)


def test_validation_freq_and_initial_epoch():
    m = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    m.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((16, 3), "float32"), np.zeros((16, 2), "float32")
    seen = []
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append((e, sorted(logs))))
    m.fit(x, y, epochs=4, initial_epoch=1, validation_data=(x, y), validation_freq=2,
          callbacks=[cb], verbose=0)
    assert [e for e, _ in seen] == [1, 2, 3]
    assert [("val_loss" in keys) for _, keys in seen] == [True, False, True]
