"""Preprocessing and augmentation layers: Keras semantics, identity at inference."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import layers

rng = np.random.default_rng(9)
IMGS = rng.random((4, 8, 10, 3), dtype=np.float32)


def test_rescaling_and_normalization():
    np.testing.assert_allclose(layers.Rescaling(1 / 255.0, offset=-1)(np.full((2, 2), 255.0))
                               .numpy(), np.zeros((2, 2)), atol=1e-6)
    data = rng.standard_normal((100, 3)) * [1, 2, 3] + [4, 5, 6]
    norm = layers.Normalization()
    norm.adapt(data)
    out = norm(data).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, atol=1e-4)
    back = layers.Normalization(mean=norm.mean, variance=norm.variance, invert=True)(out).numpy()
    np.testing.assert_allclose(back, data, rtol=1e-4, atol=1e-4)
    # As Keras: un-adapted, the layer's weights are mean 0 / variance 1 (it passes data through)
    np.testing.assert_allclose(layers.Normalization()(data).numpy(), data, rtol=1e-6)
    assert [w.name for w in norm.weights] == ["mean", "variance", "count"]
    assert [w.trainable for w in norm.weights] == [False] * 3
    # the adapted statistics are weights, not config (Keras: config mean=None)
    cfg = norm.get_config()
    assert cfg["mean"] is None and cfg["variance"] is None
    again = layers.Normalization.from_config(cfg)
    again.build(data.shape)
    again.set_weights(norm.get_weights())
    np.testing.assert_allclose(again(data).numpy(), out, rtol=1e-6)
    fixed = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 4.0, 4.0])
    assert fixed.get_config()["mean"] == [1.0, 2.0, 3.0] and not fixed.weights
    with pytest.raises(ValueError, match="adapt does not apply"):
        fixed.adapt(data)


@pytest.mark.parametrize("layer", [
    layers.RandomFlip(seed=1), layers.RandomTranslation(0.2, 0.2, seed=1),
    layers.RandomRotation(0.1, seed=1), layers.RandomZoom(0.2, seed=1),
    layers.RandomContrast(0.5, seed=1)])
def test_augmentations_identity_at_inference_and_change_in_training(layer):
    np.testing.assert_array_equal(layer(IMGS).numpy(), IMGS)
    np.testing.assert_array_equal(layer(IMGS, training=False).numpy(), IMGS)
    out = layer(IMGS, training=True).numpy()
    assert out.shape == IMGS.shape and out.dtype == np.float32
    outs = [layer(IMGS, training=True).numpy() for _ in range(4)]
    assert any(not np.array_equal(o, IMGS) for o in outs + [out])
    assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()


def test_flip_is_an_exact_mirror():
    flip = layers.RandomFlip("horizontal", seed=0)
    out = flip(IMGS, training=True).numpy()
    for o, i in zip(out, IMGS):
        assert np.array_equal(o, i) or np.array_equal(o, i[:, ::-1])


def test_translation_moves_pixels_and_rotation_by_zero_is_identity():
    shift = layers.RandomTranslation((0.25, 0.25), (0.0, 0.0), fill_mode="constant", seed=0)
    out = shift(IMGS, training=True).numpy()
    np.testing.assert_array_equal(out[:, 2:], IMGS[:, :-2])
    assert (out[:, :2] == 0).all()
    rot = layers.RandomRotation((0.0, 0.0), seed=0)
    np.testing.assert_array_equal(rot(IMGS, training=True).numpy(), IMGS)


def test_random_crop_and_contrast_statistics():
    crop = layers.RandomCrop(5, 6, seed=0)
    assert crop(IMGS, training=True).shape == (4, 5, 6, 3)
    center = crop(IMGS).numpy()
    np.testing.assert_array_equal(center, IMGS[:, 1:6, 2:8])
    assert layers.RandomCrop(5, 6)(keras.Input((8, 10, 3))).shape == (None, 5, 6, 3)
    with pytest.raises(ValueError, match="smaller"):
        layers.RandomCrop(9, 6)(IMGS)
    out = layers.RandomContrast(0.5, seed=2)(IMGS, training=True).numpy()
    np.testing.assert_allclose(out.mean(axis=(1, 2)), IMGS.mean(axis=(1, 2)), rtol=1e-4)


def test_augmented_model_trains():
    model = keras.Sequential([
        keras.Input((8, 10, 3)), layers.RandomFlip("horizontal", seed=0),
        layers.RandomContrast(0.1, seed=0), layers.Conv2D(4, 3, activation="relu"),
        layers.BatchNormalization(), layers.GlobalAveragePooling2D(),
        layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    x = rng.random((64, 8, 10, 3), dtype=np.float32)
    y = rng.integers(0, 2, 64)
    hist = model.fit(x, y, epochs=3, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()
    assert model.predict(x[:5], verbose=0).shape == (5, 2)


def test_fill_modes_follow_keras():
    from nnforge.layers.preprocessing import _fold
    idx = np.arange(-3, 7)
    assert _fold(idx, 4, "reflect").tolist() == [2, 1, 0, 0, 1, 2, 3, 3, 2, 1]
    assert _fold(idx, 4, "wrap").tolist() == [1, 2, 3, 0, 1, 2, 3, 0, 1, 2]
    assert _fold(idx, 4, "nearest").tolist() == [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]
    assert _fold(idx, 4, "constant").tolist() == [-1, -1, -1, 0, 1, 2, 3, -1, -1, -1]
    shift = layers.RandomTranslation((0.25, 0.25), (0.0, 0.0), seed=0)  # default: reflect
    out = shift(IMGS, training=True).numpy()
    np.testing.assert_array_equal(out[:, 2:], IMGS[:, :-2])
    np.testing.assert_array_equal(out[:, :2], IMGS[:, 1::-1])
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomZoom(0.1, fill_mode="mirror")
