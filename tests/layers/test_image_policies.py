"""AugMix and RandAugment: their Keras-semantics steps against Keras goldens, and the
policies' properties."""
import os

import numpy as np
import pytest

from nnforge import layers
from nnforge.layers.image_color import _Contrast
from nnforge.layers.image_policies import _Rotation, _Translation
from tests.helpers import check_inference_model_saves

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
IMG, IMG255 = G["img"], G["img255"]


def test_steps_match_keras_layers():
    rot = _Rotation((0.1, 0.1))
    np.testing.assert_allclose(rot.transform_images(IMG, rot.get_random_transformation(IMG)),
                               G["k_rotation"], atol=2e-5)
    tr = _Translation((0.2, 0.2))
    t = {"translations": np.array([[-0.3 * 7, 0.2 * 5]] * 2, np.float32)}
    np.testing.assert_allclose(tr.transform_images(IMG, t), G["k_translation"], atol=2e-5)
    c = _Contrast(0.5)
    out = c.transform_images(IMG255, {"contrast_factor": np.array([0.6, 1.4], np.float32)
                                      .reshape(2, 1, 1, 1)})
    np.testing.assert_allclose(out, G["k_contrast"], atol=2e-3)


@pytest.mark.parametrize("layer", [layers.RandAugment(seed=5),
                                   layers.RandAugment(num_ops=3, factor=(0.2, 0.6), seed=5),
                                   layers.AugMix(seed=5), layers.AugMix(all_ops=False, seed=5)])
def test_policy_properties(layer, tmp_path):
    x = np.random.default_rng(0).uniform(0, 255, (4, 16, 16, 3)).astype(np.float32)
    outs = [layer(x).numpy() for _ in range(4)]
    for o in outs:
        assert o.shape == x.shape and o.dtype == np.float32
        assert o.min() >= -1e-3 and o.max() <= 255 + 1e-3
    assert any(not np.allclose(o, x) for o in outs)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    cfg = layer.get_config()
    a, b = type(layer).from_config(cfg), type(layer).from_config(cfg)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    check_inference_model_saves(layer, x, cfg, tmp_path)


def test_policy_draws():
    x = np.zeros((2, 8, 8, 3), np.float32)
    ra = layers.RandAugment(num_ops=4, seed=1)
    t = ra.get_random_transformation(x)
    assert len(t["layer_idxes"]) == 4 and set(t["transforms"]) == set(ra._AUGMENT_LAYERS)
    am = layers.AugMix(num_chains=5, chain_depth=2, alpha=0.5, seed=1)
    t = am.get_random_transformation(x)
    np.testing.assert_allclose(t["chain_mixing_weights"].sum(), 1, rtol=1e-6)
    assert len(t["chain_transforms"]) == 5
    assert all(len(c) <= 2 for c in t["chain_transforms"])
    assert 0 <= t["weight_sample"] <= 1
    assert am.get_config()["factor"] == (0, 0.3) or am.get_config()["factor"] == (0.0, 0.3)
