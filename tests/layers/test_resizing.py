"""Resizing and CenterCrop against Keras 3 goldens, gradients, config and saving."""
import os

import numpy as np

from nnforge import layers
from tests.helpers import run_layer_test

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
IMG = G["img"]


def test_resizing_matches_keras():
    np.testing.assert_allclose(layers.Resizing(3, 4)(IMG).numpy(), G["rs_bilinear"], atol=1e-5)
    np.testing.assert_allclose(layers.Resizing(4, 4, interpolation="nearest",
                                               crop_to_aspect_ratio=True)(IMG).numpy(),
                               G["rs_nearest_crop"], atol=1e-6)
    np.testing.assert_allclose(layers.Resizing(6, 4, interpolation="bicubic",
                                               pad_to_aspect_ratio=True, fill_value=0.3)(IMG)
                               .numpy(), G["rs_bicubic_pad"], atol=1e-5)


def test_center_crop_matches_keras():
    np.testing.assert_array_equal(layers.CenterCrop(3, 4)(IMG).numpy(), G["cc_small"])
    np.testing.assert_allclose(layers.CenterCrop(6, 6)(IMG).numpy(), G["cc_big"], atol=1e-5)


def test_layer_contract(tmp_path):
    run_layer_test(layers.Resizing, {"height": 3, "width": 2, "interpolation": "bicubic"},
                   (2, 4, 5, 2), (2, 3, 2, 2), tmp_path=tmp_path)
    run_layer_test(layers.CenterCrop, {"height": 2, "width": 3}, (2, 4, 5, 2), (2, 2, 3, 2),
                   tmp_path=tmp_path)
