"""keras.utils.bounding_boxes against Keras 3 (golden outputs from
tests/golden/make_misc_golden.py): every format conversion, clipping, affine transforms, crop,
pad, delta encoding/decoding, IoU and CIoU."""
from pathlib import Path

import numpy as np
import pytest

from nnforge.utils import bounding_boxes as bb
from tests.golden.make_misc_golden import BB_FORMATS

G = np.load(Path(__file__).resolve().parents[1] / "golden" / "misc.npz")
H, W = 40, 60
TOL = dict(rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("fmt", BB_FORMATS)
def test_convert_format_matches_keras(fmt):
    got = bb.convert_format(G["bb_boxes"], "xyxy", fmt, height=H, width=W)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, G[f"bb_to_{fmt}"], **TOL)
    back = bb.convert_format(G[f"bb_to_{fmt}"], fmt, "center_yxhw", height=H, width=W)
    np.testing.assert_allclose(back, G[f"bb_from_{fmt}"], **TOL)


def test_convert_format_dict_and_errors():
    d = {"boxes": G["bb_boxes"].copy(), "labels": G["bb_labels"]}
    out = bb.convert_format(d, "xyxy", "yxyx")
    assert out is d
    np.testing.assert_allclose(out["boxes"], G["bb_to_yxyx"], **TOL)
    with pytest.raises(ValueError, match="last dimension of 4"):
        bb.convert_format(np.ones((2, 3)), "xyxy", "yxyx")
    with pytest.raises(ValueError, match="Supported formats"):
        bb.convert_format(G["bb_boxes"], "xyxy", "xxyy")
    with pytest.raises(ValueError, match="height"):
        bb.convert_format(G["bb_boxes"], "xyxy", "rel_xyxy")


def test_clip_crop_pad_affine_match_keras():
    clipped = bb.clip_to_image_size({"boxes": G["bb_boxes"], "labels": G["bb_labels"]},
                                    height=H, width=W)
    np.testing.assert_allclose(clipped["boxes"], G["bb_clip_boxes"], **TOL)
    np.testing.assert_array_equal(clipped["labels"], G["bb_clip_labels"])
    np.testing.assert_allclose(bb.crop(G["bb_boxes"], 5, 7, 25, 30), G["bb_crop"], **TOL)
    np.testing.assert_allclose(bb.pad(G["bb_boxes"], 4, 9), G["bb_pad"], **TOL)
    args = (G["bb_angle"], G["bb_tx"], G["bb_ty"], G["bb_scale"], G["bb_shx"], G["bb_shy"],
            H, W)
    np.testing.assert_allclose(bb.affine_transform(G["bb_boxes"], *args), G["bb_affine"],
                               rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bb.affine_transform(G["bb_boxes"], *args, center_x=0.3,
                                                   center_y=0.6), G["bb_affine_c"],
                               rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="height"):
        bb.clip_to_image_size({"boxes": G["bb_boxes"]})
    with pytest.raises(NotImplementedError):
        bb.crop(G["bb_boxes"], 0, 0, 1, 1, bounding_box_format="yxyx")


def test_encode_decode_match_keras():
    anchors = G["bb_boxes2"][1, :3]
    deltas = bb.encode_box_to_deltas(anchors, G["bb_boxes"][0], "xyxy", "xyxy",
                                     variance=[0.1, 0.1, 0.2, 0.2])
    np.testing.assert_allclose(deltas, G["bb_deltas"], **TOL)
    np.testing.assert_allclose(bb.encode_box_to_deltas(anchors, G["bb_boxes"][1], "xyxy",
                                                       "xyxy", encoding_format="center_xywh"),
                               G["bb_deltas_xywh"], **TOL)
    dec = bb.decode_deltas_to_boxes(anchors, G["bb_deltas"] * 0.5, "xyxy", "yxyx",
                                    variance=[0.1, 0.1, 0.2, 0.2])
    np.testing.assert_allclose(dec, G["bb_decoded"], **TOL)
    # decoding the encoding gives the boxes back; dicts decode level by level
    again = bb.decode_deltas_to_boxes({"p3": anchors}, {"p3": deltas}, "xyxy", "xyxy",
                                      variance=[0.1, 0.1, 0.2, 0.2])
    np.testing.assert_allclose(again["p3"], G["bb_boxes"][0], rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="variance"):
        bb.encode_box_to_deltas(anchors, anchors, "xyxy", "xyxy", variance=[1, 2])
    with pytest.raises(ValueError, match="encoding_format"):
        bb.encode_box_to_deltas(anchors, anchors, "xyxy", "xyxy", encoding_format="xyxy")


def test_iou_and_ciou_match_keras():
    np.testing.assert_allclose(bb.compute_iou(G["bb_boxes"][0], G["bb_boxes2"][1], "xyxy"),
                               G["bb_iou"], **TOL)
    np.testing.assert_allclose(bb.compute_iou(G["bb_boxes"], G["bb_boxes2"], "xyxy",
                                              use_masking=True), G["bb_iou_batch"], **TOL)
    np.testing.assert_allclose(bb.compute_iou(G["bb_to_rel_yxyx"][0], G["bb_to_rel_yxyx"][1],
                                              "rel_yxyx", image_shape=(H, W, 3)),
                               G["bb_iou_rel"], **TOL)
    np.testing.assert_allclose(bb.compute_ciou(G["bb_boxes"], G["bb_boxes2"][:, :3], "xyxy"),
                               G["bb_ciou"], **TOL)
    with pytest.raises(ValueError, match="image_shape"):
        bb.compute_iou(G["bb_boxes"][0], G["bb_boxes"][0], "rel_xyxy")
    with pytest.raises(ValueError, match="batched"):
        bb.compute_iou(np.ones(4), G["bb_boxes"][0], "xyxy")
