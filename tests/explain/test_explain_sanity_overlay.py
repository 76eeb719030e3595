"""nnforge.explain: Spearman rank correlation, the randomisation sanity check on a small
model, and the overlay / colormap pictures."""
import numpy as np
import pytest

import nnforge as keras
from nnforge import explain, layers
from nnforge.explain.overlay import resize_bilinear
from nnforge.explain.sanity import rankdata


def test_rankdata_averages_ties_and_spearman_known_values():
    np.testing.assert_array_equal(rankdata([3, 1, 4, 1, 5]), [3, 1.5, 4, 1.5, 5])
    np.testing.assert_array_equal(rankdata([[2.0, 2.0], [2.0, 1.0]]), [3, 3, 3, 1])
    a = np.array([0.3, -1.0, 2.0, 7.0, 0.1])
    assert explain.spearman(a, np.exp(a)) == pytest.approx(1.0)
    assert explain.spearman(a, -a ** 3) == pytest.approx(-1.0)
    # Hand computation: ranks (1,2,3,4,5) vs (2,1,4,3,5): 1 - 6*sum(d^2)/(n(n^2-1)) = 0.8.
    assert explain.spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    # With ties: the Pearson correlation of the average ranks.
    ra, rb = np.array([1, 2.5, 2.5, 4]), np.array([1, 2, 3, 4])
    assert explain.spearman([1, 2, 2, 3], [5, 6, 7, 8]) == pytest.approx(
        np.corrcoef(ra, rb)[0, 1])
    assert explain.spearman(np.zeros(4), a[:4]) == 0.0  # a constant map carries no ranking


def test_sanity_check_small_model_leaves_weights_alone():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(3, 3, activation="relu"),
                              layers.Flatten(), layers.Dense(2, activation="softmax")])
    x = np.random.default_rng(0).normal(size=(3, 6, 6, 1)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    result = explain.sanity_check("saliency", model, x, output="logits")
    assert result.layers == [model.layers[2].name, model.layers[0].name]  # top-down
    assert result.correlations.shape == (2, 3)
    assert np.all(np.abs(result.correlations) <= 1 + 1e-12)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    table = result.table()
    assert "randomised down to" in table and model.layers[0].name in table
    assert str(result) == table
    # The same seed gives the same random weights; the correlation of an unchanged model is 1.
    again = explain.sanity_check(explain.saliency, model, x, output="logits")
    np.testing.assert_array_equal(again.correlations, result.correlations)

    def constant(m, a, target=None):  # ignores the weights: must stay perfectly correlated
        return np.asarray(a) ** 2

    np.testing.assert_allclose(explain.sanity_check(constant, model, x).correlations, 1.0)


def test_colormaps_and_overlay_values():
    ramp = np.linspace(0, 1, 5).reshape(1, 5)
    jet = explain.colorize(ramp)
    np.testing.assert_array_equal(jet[0, 0], [0, 0, 128])     # matplotlib's jet at 0
    np.testing.assert_array_equal(jet[0, 2], [128, 255, 128])  # ... at 0.5
    np.testing.assert_array_equal(jet[0, 4], [128, 0, 0])      # ... at 1
    vir = explain.colorize(ramp, "viridis")
    np.testing.assert_array_equal(vir[0, 0], [68, 1, 84])
    np.testing.assert_array_equal(vir[0, 4], [253, 231, 37])
    img = np.random.default_rng(0).random((6, 6)).astype("float32")
    heat = np.random.default_rng(1).random((3, 3))
    out = explain.overlay(img, heat, alpha=0.0)
    assert out.shape == (6, 6, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., 0], np.round(img * 255).astype(np.uint8))
    full = explain.overlay((img * 255).astype(np.uint8), heat, alpha=1.0)
    up = resize_bilinear((heat - heat.min()) / (heat.max() - heat.min()), 6, 6)
    jet = np.stack([np.clip(1.5 - np.abs(4 * up - c), 0, 1) for c in (3, 2, 1)], axis=-1)
    np.testing.assert_array_equal(full, np.round(jet * 255).astype(np.uint8))


def test_resize_bilinear_half_pixel_centres():
    a = np.array([[0.0, 1.0], [2.0, 3.0]])
    r = resize_bilinear(a, 4, 4)
    # Output pixel centres map to -0.25, 0.25, 0.75, 1.25 (clamped), as tf.image.resize does.
    np.testing.assert_allclose(r[0], [0, 0.25, 0.75, 1])
    np.testing.assert_allclose(r[:, 0], [0, 0.5, 1.5, 2])
    np.testing.assert_allclose(resize_bilinear(np.full((3, 5), 7.0), 9, 2), 7.0)
