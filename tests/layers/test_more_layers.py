"""BatchNormalization, merge, reshaping, activation, global pooling and spatial dropout layers:
values, gradients vs finite differences, shapes in the functional API, configs, errors."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers
from tests.helpers import check_grads, check_layer_grads

rng = np.random.default_rng(5)


def test_batch_normalization_training_inference_and_moving_stats():
    bn = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    x = rng.standard_normal((16, 3, 3, 4)).astype("float32") * 2 + 1
    y = bn(x, training=True).numpy()
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5)
    y_inf = bn(x, training=False).numpy()
    expect = (x - bn.moving_mean.numpy()) / np.sqrt(bn.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(y_inf, expect, rtol=1e-4, atol=1e-5)
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    before = bn.moving_mean.numpy().copy()
    bn(x, training=False)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)


def test_batch_normalization_gradients():
    bn = layers.BatchNormalization(gamma_initializer="random_normal",
                                   beta_initializer="random_normal")
    x = rng.standard_normal((6, 5))
    check_layer_grads(bn, x, training=True)
    check_layer_grads(layers.BatchNormalization(), rng.standard_normal((4, 3, 3, 2)),
                      training=False)


def test_bn_model_trains_and_saves(tmp_path):
    keras.utils.set_random_seed(0)  # weights and shuffling: a repeatable run
    m = keras.Sequential([keras.Input((8,)), layers.Dense(16), layers.BatchNormalization(),
                          layers.ReLU(), layers.Dense(2, activation="softmax")])
    m.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    x = rng.standard_normal((256, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    h = m.fit(x, y, epochs=10, batch_size=32, verbose=0)
    assert h.history["accuracy"][-1] > 0.9
    m.save(tmp_path / "bn.keras")
    m2 = keras.models.load_model(tmp_path / "bn.keras")
    np.testing.assert_array_equal(m.predict(x, verbose=0), m2.predict(x, verbose=0))


@pytest.mark.parametrize("cls,ref", [
    (layers.Add, lambda a, b: a + b), (layers.Subtract, lambda a, b: a - b),
    (layers.Multiply, lambda a, b: a * b), (layers.Average, lambda a, b: (a + b) / 2),
    (layers.Maximum, np.maximum), (layers.Minimum, np.minimum)])
def test_merge_layers(cls, ref):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(cls()([a, b]).numpy(), ref(a, b), rtol=1e-6)
    check_grads(lambda x, y: cls()([x, y]), [a, b])
    ia, ib = keras.Input((4,)), keras.Input((4,))
    assert cls()([ia, ib]).shape == (None, 4)
    with pytest.raises(ValueError, match="list"):
        cls()(a)


def test_concatenate_functional_and_errors():
    a, b = keras.Input((4, 3)), keras.Input((4, 5))
    out = layers.Concatenate()([a, b])
    assert out.shape == (None, 4, 8)
    model = keras.Model([a, b], layers.Dense(2)(layers.Flatten()(out)))
    xa, xb = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 5))
    assert model.predict([xa, xb], verbose=0).shape == (2, 2)
    check_grads(lambda x, y: layers.Concatenate(axis=1)([x, y]), [xa, xa])
    with pytest.raises(ValueError, match="differ"):
        layers.Concatenate(axis=-1)([keras.Input((4, 3)), keras.Input((5, 3))])


def test_reshaping_layers_values_shapes_and_grads():
    x = rng.standard_normal((2, 3, 4, 5))
    assert layers.Reshape((12, 5))(x).shape == (2, 12, 5)
    assert layers.Reshape((-1, 10))(x).shape == (2, 6, 10)
    assert layers.Reshape((-1,))(keras.Input((3, 4))).shape == (None, 12)
    with pytest.raises(ValueError, match="differs"):
        layers.Reshape((7,))(keras.Input((3, 4)))
    np.testing.assert_array_equal(layers.Permute((3, 1, 2))(x).numpy(), x.transpose(0, 3, 1, 2))
    v = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(layers.RepeatVector(4)(v).numpy(),
                                  np.repeat(v[:, None, :], 4, axis=1))
    zp = layers.ZeroPadding2D(((1, 2), (0, 1)))(x).numpy()
    assert zp.shape == (2, 6, 5, 5) and zp[:, 0].sum() == 0
    np.testing.assert_allclose(zp[:, 1:4, 0:4], x, rtol=1e-6)
    cr = layers.Cropping2D(((1, 0), (1, 2)))(x).numpy()
    np.testing.assert_allclose(cr, x[:, 1:, 1:2], rtol=1e-6)
    up = layers.UpSampling2D((2, 3))(x).numpy()
    np.testing.assert_allclose(up, np.repeat(np.repeat(x, 2, axis=1), 3, axis=2), rtol=1e-6)
    for layer in (layers.ZeroPadding2D(1), layers.Cropping2D(((1, 1), (0, 1))),
                  layers.UpSampling2D(2), layers.Permute((2, 1, 3)), layers.Reshape((4, 15))):
        check_grads(lambda t, layer=layer: layer(t), [x[:1]])
    check_grads(lambda t: layers.RepeatVector(3)(t), [v])
    inp = keras.Input((6, 7, 2))
    assert layers.ZeroPadding2D(2)(inp).shape == (None, 10, 11, 2)
    assert layers.UpSampling2D()(inp).shape == (None, 12, 14, 2)
    assert layers.Cropping2D(1)(inp).shape == (None, 4, 5, 2)


def test_activation_layers():
    x = rng.standard_normal((3, 6)) * 3
    x[np.abs(x) < 0.05] = 0.5
    np.testing.assert_allclose(layers.ReLU()(x).numpy(), np.maximum(x, 0), rtol=1e-6)
    np.testing.assert_allclose(layers.ReLU(max_value=1.0)(x).numpy(), np.clip(x, 0, 1),
                               rtol=1e-6)
    np.testing.assert_allclose(layers.LeakyReLU()(x).numpy(), np.where(x > 0, x, 0.3 * x),
                               rtol=1e-6)
    np.testing.assert_allclose(layers.ELU(0.5)(x).numpy(),
                               np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-5)
    e = np.exp(x - x.max(1, keepdims=True))
    np.testing.assert_allclose(layers.Softmax()(x).numpy(), e / e.sum(1, keepdims=True),
                               rtol=1e-5)
    for layer in (layers.LeakyReLU(0.1), layers.ELU(), layers.Softmax()):
        check_grads(lambda t, layer=layer: layer(t), [x], eps=1e-3)


def test_global_pooling_and_spatial_dropout():
    x = rng.standard_normal((2, 4, 5, 3))
    np.testing.assert_allclose(layers.GlobalAveragePooling2D()(x).numpy(), x.mean(axis=(1, 2)),
                               rtol=1e-5)
    np.testing.assert_allclose(layers.GlobalMaxPooling2D(keepdims=True)(x).numpy(),
                               x.max(axis=(1, 2), keepdims=True), rtol=1e-6)
    check_grads(lambda t: layers.GlobalAveragePooling2D()(t), [x])
    check_grads(lambda t: layers.GlobalMaxPooling2D()(t), [x], eps=1e-3)
    sd = layers.SpatialDropout2D(0.5, seed=2)
    ones = np.ones((8, 3, 3, 16), "float32")
    np.testing.assert_array_equal(sd(ones).numpy(), ones)
    y = sd(ones, training=True).numpy()
    per_map = y.reshape(8, 9, 16)
    assert np.all(per_map.min(axis=1) == per_map.max(axis=1))  # whole maps kept or dropped
    assert set(np.unique(y)) <= {0.0, 2.0}


@pytest.mark.parametrize("layer", [
    layers.BatchNormalization(momentum=0.9), layers.Concatenate(axis=1), layers.Reshape((2, 3)),
    layers.Permute((2, 1)), layers.RepeatVector(3), layers.ZeroPadding2D(((1, 2), (3, 4))),
    layers.Cropping2D(2), layers.UpSampling2D((2, 1)), layers.ReLU(max_value=6.0),
    layers.LeakyReLU(0.2), layers.ELU(0.7), layers.Softmax(axis=1),
    layers.GlobalAveragePooling2D(keepdims=True), layers.SpatialDropout2D(0.3)])
def test_config_round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_prelu_values_gradients_and_shared_axes():
    layer = layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    x = rng.standard_normal((3, 4))
    x[np.abs(x) < 0.05] = 0.5
    np.testing.assert_allclose(layer(x.astype("float32")).numpy(), np.where(x > 0, x, 0.25 * x),
                               rtol=1e-6)
    check_layer_grads(layers.PReLU(alpha_initializer="random_normal"), x)
    img = layers.PReLU(shared_axes=[1, 2])
    img(np.zeros((1, 5, 5, 3), "float32"))
    assert img.alpha.shape == (1, 1, 3)


def test_rescaling_and_normalization_gradients():
    x = rng.standard_normal((3, 4))
    check_layer_grads(layers.Rescaling(0.5, offset=1.0), x)
    norm = layers.Normalization(mean=[1.0, 2.0, 3.0, 4.0], variance=[1.0, 4.0, 9.0, 16.0])
    check_layer_grads(norm, x)
