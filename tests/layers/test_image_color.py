"""Colour augmentation layers: Keras 3's transforms replayed with fixed parameters (goldens
from Keras's own transform_images), deterministic factors, and the random draws' properties."""
import os

import numpy as np
import pytest

from nnforge import layers
from tests.helpers import check_inference_model_saves

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
IMG, IMG255 = G["img"], G["img255"]


def f32(*v):
    return np.array(v, np.float32)


REPLAYS = [
    ("br", layers.RandomBrightness(0.3), {"rgb_delta": f32(40, -90).reshape(2, 1, 1, 1)}),
    ("rgray", layers.RandomGrayscale(0.5), np.array([True, False])[:, None, None, None]),
    ("inv", layers.RandomInvert(), {"apply_inversion": np.array([True, False])}),
    ("sol", layers.Solarization(), {"additions": f32(20, 0).reshape(2, 1, 1, 1),
                                    "thresholds": f32(128, 60).reshape(2, 1, 1, 1)}),
    ("post", layers.RandomPosterization(4), {"shift_factor": np.array([5, 2], np.uint8)}),
    ("degen", layers.RandomColorDegeneration(0.5), {"factor": f32(0.3, 0.9).reshape(2, 1, 1, 1)}),
    ("sat", layers.RandomSaturation(0.5), {"factor": f32(0.4, 2.5)}),
    ("hue", layers.RandomHue(0.5), {"factor": f32(0.2, -0.35)}),
    ("sharp", layers.RandomSharpness(0.5), {"factor": f32(0.1, 0.9)}),
]


@pytest.mark.parametrize("key,layer,t", REPLAYS, ids=[r[0] for r in REPLAYS])
def test_transform_matches_keras(key, layer, t):
    out = layer.transform_images(IMG255.copy(), t)
    np.testing.assert_allclose(out, G[key], rtol=1e-5, atol=2e-3)


def test_saturation_in_unit_range_matches_keras():
    lay = layers.RandomSaturation(0.5, value_range=(0, 1))
    np.testing.assert_allclose(lay.transform_images(IMG.copy(), {"factor": f32(0.4, 2.5)}),
                               G["sat01"], atol=1e-5)


@pytest.mark.parametrize("key,layer", [
    ("br_fixed", layers.RandomBrightness((0.2, 0.2), value_range=(0, 1))),
    ("inv_fixed", layers.RandomInvert((1.0, 1.0), value_range=(0, 1))),
    ("sol_fixed", layers.Solarization(value_range=(0, 1))),
    ("post_fixed", layers.RandomPosterization((3, 3), value_range=(0, 1))),
    ("degen_fixed", layers.RandomColorDegeneration((0.6, 0.6), value_range=(0, 1))),
    ("sat_fixed", layers.RandomSaturation((0.8, 0.8), value_range=(0, 1))),
    ("sharp_fixed", layers.RandomSharpness((0.8, 0.8), value_range=(0, 1))),
    ("eq64", layers.Equalization(bins=64, value_range=(0, 1))),
    ("jitter_fixed", layers.RandomColorJitter(value_range=(0, 1), brightness_factor=(0.1, 0.1),
                                              saturation_factor=(0.7, 0.7))),
])
def test_fixed_factor_call_matches_keras(key, layer):
    np.testing.assert_allclose(layer(IMG).numpy(), G[key], rtol=1e-5, atol=1e-5)


def test_deterministic_layers_match_keras():
    np.testing.assert_allclose(layers.AutoContrast()(IMG255).numpy(), G["autoc"], atol=2e-3)
    np.testing.assert_allclose(layers.AutoContrast(value_range=(0, 1))(IMG * 0.5 + 0.2).numpy(),
                               G["autoc01"], atol=1e-5)
    np.testing.assert_allclose(layers.Equalization()(IMG255).numpy(), G["eq"], atol=1e-3)


ALL = [layers.RandomBrightness(0.5, seed=1), layers.RandomGrayscale(0.5, seed=1),
       layers.RandomInvert(seed=1), layers.Solarization(0.5, 0.5, seed=1),
       layers.RandomPosterization(6, seed=1), layers.RandomColorDegeneration(0.8, seed=1),
       layers.RandomSaturation(0.8, seed=1), layers.RandomHue(0.8, seed=1),
       layers.RandomSharpness(0.8, seed=1), layers.RandomColorJitter(
           brightness_factor=0.3, contrast_factor=0.5, saturation_factor=0.5, hue_factor=0.3,
           seed=1)]


@pytest.mark.parametrize("layer", ALL, ids=[type(l).__name__ for l in ALL])
def test_random_layers_properties(layer, tmp_path):
    x = np.random.default_rng(0).uniform(0, 255, (6, 5, 5, 3)).astype(np.float32)
    out = layer(x).numpy()  # called directly: training defaults to True, as in Keras
    assert out.shape == x.shape and out.dtype == np.float32
    if not isinstance(layer, (layers.RandomSaturation, layers.RandomColorJitter)):
        # (Keras clips the saturation to value_range, not [0, 1], so those may leave it)
        assert out.min() >= -1e-3 and out.max() <= 255 + 1e-3
    assert not np.allclose(out, x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    single = layer(x[0]).numpy()
    assert single.shape == x[0].shape
    # seeds reproduce: two layers from one config draw the same transformations
    cfg = layer.get_config()
    if "seed" in cfg:
        a, b = type(layer).from_config(cfg), type(layer).from_config(cfg)
    else:  # Keras's RandomGrayscale leaves its seed out of the config
        a, b = (type(layer).from_config(cfg), type(layer).from_config(cfg))
        a._make_rng(7)
        b._make_rng(7)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert a.get_config() == cfg
    # inference through a model leaves images untouched; the model saves and loads
    check_inference_model_saves(layer, x, cfg, tmp_path)


def test_random_draws_follow_keras_ranges():
    x = np.zeros((400, 1, 1, 3), np.float32) + 100
    d = layers.RandomBrightness((-0.2, 0.1), seed=3).get_random_transformation(x)["rgb_delta"]
    assert d.min() >= -0.2 * 255 and d.max() <= 0.1 * 255 and d.std() > 10
    inv = layers.RandomInvert(seed=3).get_random_transformation(x)["apply_inversion"]
    assert 0.35 < inv.mean() < 0.65  # factor 1.0: probability drawn in [0, 1]
    sh = layers.RandomPosterization(5, seed=3).get_random_transformation(x)["shift_factor"]
    assert set(np.unique(8 - sh)) == {1, 2, 3, 4}  # bits in [1, 5)
    hue = layers.RandomHue(0.4, seed=3).get_random_transformation(x)["factor"]
    assert np.abs(hue).max() <= 0.2 and (hue > 0).any() and (hue < 0).any()
    gray = layers.RandomGrayscale(0.25, seed=3).get_random_transformation(x)
    assert 0.15 < gray.mean() < 0.35


def test_argument_errors():
    with pytest.raises(ValueError, match="factor"):
        layers.RandomBrightness(1.5)
    with pytest.raises(ValueError, match="value_range"):
        layers.RandomBrightness(0.1, value_range=(0, 1, 2))
    with pytest.raises(ValueError, match="between 0 and 1"):
        layers.RandomGrayscale(2.0)
    with pytest.raises(ValueError, match="rank 3"):
        layers.RandomBrightness(0.1)(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="addition_factor"):
        layers.Solarization(addition_factor=2.0)


def test_channels_first_and_dict_inputs():
    lay = layers.RandomBrightness((0.2, 0.2), value_range=(0, 1), data_format="channels_first")
    out = lay(np.transpose(IMG, (0, 3, 1, 2))).numpy()
    np.testing.assert_allclose(np.transpose(out, (0, 2, 3, 1)), G["br_fixed"], atol=1e-6)
    res = layers.RandomInvert((1.0, 1.0), value_range=(0, 1))(
        {"images": IMG, "labels": np.array([0, 1])})
    np.testing.assert_allclose(res["images"].numpy(), G["inv_fixed"], atol=1e-6)
    np.testing.assert_array_equal(res["labels"].numpy(), [0, 1])
