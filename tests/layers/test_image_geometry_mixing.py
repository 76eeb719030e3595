"""RandomShear, RandomPerspective, RandomElasticTransform, RandomGaussianBlur, MixUp, CutMix,
RandomErasing: Keras 3's transforms replayed with fixed parameters (goldens from Keras's own
transform_images) and the random draws' properties."""
import os

import numpy as np
import pytest

from nnforge import layers
from tests.helpers import check_inference_model_saves

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
IMG = G["img"]


@pytest.mark.parametrize("mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
def test_shear_matches_keras(mode, interp):
    lay = layers.RandomShear(0.3, 0.3, fill_mode=mode, interpolation=interp, fill_value=0.2)
    out = lay.transform_images(IMG.copy(), {"shear_factor": G["shear_factor"]})
    np.testing.assert_allclose(out, G[f"shear_{mode}_{interp}"], atol=2e-5)


def test_perspective_blur_mixup_match_keras():
    start = np.array([[[0, 0], [6, 0], [0, 4], [6, 4]]] * 2, np.float32)
    out = layers.RandomPerspective(fill_value=0.1).transform_images(
        IMG.copy(), {"apply_perspective": np.array([True, False]), "start_points": start,
                     "end_points": G["rp_end"]})
    np.testing.assert_allclose(out, G["rp"], atol=1e-4)
    out = layers.RandomGaussianBlur(kernel_size=5, value_range=(0, 1)).transform_images(
        IMG.copy(), {"should_apply_blur": np.array([True, False]),
                     "blur_factor": np.array([0.7, 1.4], np.float32)})
    np.testing.assert_allclose(out, G["gblur"], atol=1e-6)
    t = {"mix_weight": np.array([0.3, 0.8], np.float32), "permutation_order": np.array([1, 0])}
    np.testing.assert_allclose(layers.MixUp().transform_images(IMG.copy(), t), G["mixup"],
                               atol=1e-6)
    lab = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    np.testing.assert_allclose(layers.MixUp().transform_labels(lab, t), G["mixup_labels"],
                               atol=1e-6)


ALL = [layers.RandomShear(0.4, 0.4, seed=2), layers.RandomPerspective(scale=0.5, seed=2),
       layers.RandomElasticTransform(seed=2), layers.RandomGaussianBlur(seed=2),
       layers.MixUp(seed=2), layers.CutMix(seed=2), layers.RandomErasing(seed=2)]


@pytest.mark.parametrize("layer", ALL, ids=[type(l).__name__ for l in ALL])
def test_random_layers_properties(layer, tmp_path):
    x = np.random.default_rng(0).uniform(0, 255, (6, 12, 12, 3)).astype(np.float32)
    outs = [layer(x).numpy() for _ in range(3)]
    assert all(o.shape == x.shape and o.dtype == np.float32 for o in outs)
    assert any(not np.allclose(o, x) for o in outs)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert layer(x[0]).shape == x[0].shape
    cfg = layer.get_config()
    a, b = type(layer).from_config(cfg), type(layer).from_config(cfg)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    check_inference_model_saves(layer, x, cfg, tmp_path)


def test_mixing_labels_and_boxes():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (8, 10, 10, 3)).astype(np.float32)
    y = np.eye(8, dtype=np.float32)
    out = layers.MixUp(alpha=0.4, seed=3)({"images": x, "labels": y})
    lab = out["labels"].numpy()
    np.testing.assert_allclose(lab.sum(1), 1, atol=1e-6)  # convex combinations
    out = layers.CutMix(seed=3)({"images": x, "labels": y})
    imgs, lab = out["images"].numpy(), out["labels"].numpy()
    np.testing.assert_allclose(lab.sum(1), 1, atol=1e-6)
    for i in range(8):  # each pixel comes from the image itself or one other image
        same = np.all(imgs[i] == x[i], axis=-1)
        kept = same.mean()
        if kept < 1:
            j = int(np.argmax(lab[i] * (np.arange(8) != i)))
            np.testing.assert_array_equal(imgs[i][~same], x[j][~same])
        assert abs(lab[i, i] - kept) < 0.2 or lab[i, i] == 1.0
    # unbatched CutMix is a no-op, as in Keras
    np.testing.assert_array_equal(layers.CutMix(seed=0)(x[0]).numpy(), x[0])
    er = layers.RandomErasing(factor=(1.0, 1.0), fill_value=(1.0, 2.0, 3.0), value_range=(0, 5),
                              seed=4)(x).numpy()
    changed = np.any(er != x, axis=-1)
    assert changed.any(axis=(1, 2)).all()
    np.testing.assert_array_equal(er[changed], np.broadcast_to([1.0, 2.0, 3.0],
                                                               er[changed].shape))


def test_factor_conventions_and_errors():
    x = np.zeros((500, 4, 4, 3), np.float32)
    t = layers.RandomShear(x_factor=0.2, seed=0).get_random_transformation(x)["shear_factor"]
    assert np.abs(t[:, 0]).max() <= 0.2 and (t[:, 1] == 0).all()
    t = layers.RandomGaussianBlur(factor=(0.5, 0.5), sigma=(0.3, 0.6), seed=0)\
        .get_random_transformation(x)
    assert 0.4 < t["should_apply_blur"].mean() < 0.6
    assert ((t["blur_factor"] >= 0.3) & (t["blur_factor"] <= 0.6 + 1e-5)).all()
    t = layers.RandomPerspective(scale=0.4, seed=0).get_random_transformation(x)
    d = t["end_points"] - t["start_points"]
    assert np.abs(d).max() <= 0.2 * 3 + 1e-5
    with pytest.raises(ValueError, match="odd"):
        layers.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomShear(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="scale"):
        layers.RandomPerspective(scale=2.0)
