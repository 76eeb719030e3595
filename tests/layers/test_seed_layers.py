"""The seed programs' layers: Dense, Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dropout,
Activation, Input. Gradients through the layers vs finite differences, shapes, configs, errors."""
import numpy as np
import pytest

import nnforge
from nnforge import layers, ops
from tests.helpers import check_grads, check_layer_grads

rng = np.random.default_rng(2)


def _gradcheck_layer(layer, x):
    check_layer_grads(layer, x)


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax", "elu"])
def test_dense_gradients(activation):
    x = rng.standard_normal((3, 5))
    _gradcheck_layer(layers.Dense(4, activation=activation,
                                  bias_initializer="random_normal"), x)


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3), dict(kernel_size=3, strides=2, padding="same"),
    dict(kernel_size=(2, 3), dilation_rate=2, padding="same", activation="sigmoid"),
    dict(kernel_size=1), dict(kernel_size=3, strides=(2, 1), activation="tanh", use_bias=False)])
def test_conv2d_gradients(kw):
    x = rng.standard_normal((2, 7, 6, 3))
    _gradcheck_layer(layers.Conv2D(4, bias_initializer="random_normal", **kw), x)


def test_pool_flatten_gradients():
    x = rng.standard_normal((2, 5, 5, 2))
    check_grads(lambda a: layers.MaxPooling2D(padding="same")(a), [x], eps=1e-3)
    check_grads(lambda a: layers.AveragePooling2D(3, strides=2)(a), [x])
    check_grads(lambda a: layers.Flatten()(a), [x])


def test_output_shapes_match_keras():
    inp = nnforge.Input((32, 32, 3))
    assert layers.Conv2D(32, 3)(inp).shape == (None, 30, 30, 32)
    assert layers.Conv2D(8, 3, strides=2, padding="same")(inp).shape == (None, 16, 16, 8)
    assert layers.Conv2D(8, 5, dilation_rate=2)(inp).shape == (None, 24, 24, 8)
    assert layers.MaxPooling2D()(inp).shape == (None, 16, 16, 3)
    assert layers.MaxPooling2D(3, strides=2, padding="same")(
        nnforge.Input((7, 7, 1))).shape == (None, 4, 4, 1)
    assert layers.AveragePooling2D(3)(inp).shape == (None, 10, 10, 3)
    assert layers.Flatten()(inp).shape == (None, 3072)
    assert layers.Dense(5)(nnforge.Input((4, 7))).shape == (None, 4, 5)


def test_dropout_training_only():
    d = layers.Dropout(0.5, seed=1)
    x = np.ones((100, 20), "float32")
    np.testing.assert_array_equal(d(x).numpy(), x)
    np.testing.assert_array_equal(d(x, training=False).numpy(), x)
    y = d(x, training=True).numpy()
    assert 0.35 < (y == 0).mean() < 0.65
    np.testing.assert_allclose(y[y != 0], 2.0)


def test_weights_and_configs():
    dense = layers.Dense(3, activation="relu", name="d")
    dense.build((None, 4))
    assert [w.shape for w in dense.weights] == [(4, 3), (3,)]
    assert dense.count_params() == 15
    assert [w.path for w in dense.weights] == ["d/kernel", "d/bias"]
    np.testing.assert_array_equal(dense.bias.numpy(), np.zeros(3))
    limit = np.sqrt(6 / (4 + 3))
    assert np.abs(dense.kernel.numpy()).max() <= limit
    cfg = dense.get_config()
    assert cfg["units"] == 3 and cfg["activation"] == "relu"
    clone = layers.Dense.from_config(cfg)
    assert clone.units == 3 and clone.name == "d"
    conv = layers.Conv2D(2, 3, padding="same", strides=2)
    cfg = conv.get_config()
    assert cfg["kernel_size"] == [3, 3] and cfg["strides"] == [2, 2] and cfg["padding"] == "same"
    assert layers.Conv2D.from_config(cfg).kernel_size == (3, 3)
    dense.set_weights([np.ones((4, 3)), np.arange(3)])
    np.testing.assert_array_equal(dense.get_weights()[1], [0, 1, 2])
    with pytest.raises(ValueError, match="shape"):
        dense.set_weights([np.ones((3, 3)), np.ones(3)])
    with pytest.raises(ValueError, match="expected 2 arrays"):
        dense.set_weights([np.ones((4, 3))])


def test_clear_errors_name_the_layer():
    d = layers.Dense(3, name="head")
    d(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="head.*expected axis -1.*value 4.*\\(2, 5\\)"):
        d(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(3, 3, padding="full")
    with pytest.raises(ValueError, match="smaller than"):
        layers.Conv2D(3, 5)(nnforge.Input((3, 3, 1)))
    with pytest.raises(ValueError, match="4-D"):
        layers.Conv2D(3, 3)(nnforge.Input((8, 8)))
    with pytest.raises(TypeError, match="unrecognized"):
        layers.Dense(3, bogus=1)


def test_custom_layer_with_add_weight_trains_under_tape():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="s")

        def call(self, x):
            return ops.multiply(x, self.s)

    layer = Scale()
    x = np.array([[1.0, 2.0]], "float32")
    with nnforge.GradientTape() as tape:
        y = ops.sum(layer(x))
    g = tape.gradient(y, layer.trainable_weights)
    np.testing.assert_allclose(g[0].numpy(), [1.0, 2.0])
