"""ContrastLimitedAdaptiveHistogramEqualization and MaxNumBoundingBoxes against Keras 3."""
import os

import numpy as np
import pytest

from nnforge import layers

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
X = G["img_big"]
CLAHE = layers.ContrastLimitedAdaptiveHistogramEqualization


def test_clahe_matches_keras():
    np.testing.assert_allclose(CLAHE()(X).numpy(), G["clahe_def"], atol=2e-3)
    np.testing.assert_allclose(CLAHE(clip_limit=2.0, tile_grid_size=(3, 4))(X).numpy(),
                               G["clahe_34"], atol=2e-3)
    np.testing.assert_allclose(CLAHE(clip_limit=0.0, tile_grid_size=(2, 2), value_range=(0, 1))
                               (X / 255.0).numpy(), G["clahe_noclip"], atol=1e-5)
    # deterministic and applied at inference too, as in Keras
    np.testing.assert_array_equal(CLAHE()(X, training=False).numpy(), CLAHE()(X).numpy())
    assert CLAHE()(X[0]).shape == X[0].shape
    cfg = CLAHE(tile_grid_size=(3, 4)).get_config()
    assert CLAHE.from_config(cfg).get_config() == cfg


def test_max_num_bounding_boxes_matches_keras():
    data = {"images": G["img"], "bounding_boxes": {"boxes": G["mnb_in"],
                                                    "labels": np.arange(10.0).reshape(2, 5)}}
    out = layers.MaxNumBoundingBoxes(max_number=3, bounding_box_format="xyxy")(data)
    np.testing.assert_array_equal(out["bounding_boxes"]["boxes"].numpy(), G["mnb_boxes"])
    np.testing.assert_array_equal(out["bounding_boxes"]["labels"].numpy(), G["mnb_labels"])
    np.testing.assert_array_equal(out["images"].numpy(), G["img"])
    out = layers.MaxNumBoundingBoxes(max_number=7, fill_value=-2, bounding_box_format="xyxy")(
        data)
    np.testing.assert_array_equal(out["bounding_boxes"]["boxes"].numpy(), G["mnb7_boxes"])
    np.testing.assert_array_equal(out["bounding_boxes"]["labels"].numpy(), G["mnb7_labels"])
    with pytest.raises(ValueError, match="bounding_box_format"):
        layers.MaxNumBoundingBoxes(max_number=3)(data)
    with pytest.raises(ValueError, match="bounding boxes"):
        layers.RandomBrightness(0.1)(data)
    lay = layers.MaxNumBoundingBoxes(max_number=3, bounding_box_format="xyxy")
    assert layers.MaxNumBoundingBoxes.from_config(lay.get_config()).get_config() == \
        lay.get_config()
