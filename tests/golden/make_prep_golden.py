"""Golden outputs of real Keras 3 for the preprocessing layers and ``keras.ops.image``
(tests/ops/test_image.py, tests/layers/test_lookup.py, test_text_vectorization.py,
test_image_preprocessing.py read them).

Run with the peers venv (Keras 3.15 on TensorFlow):

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_prep_golden.py

writes tests/golden/prep.npz (small shapes; strings are stored as unicode arrays)."""
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "prep.npz")
rng = np.random.default_rng(17)
g = {}


def put(name, value):
    g[name] = np.asarray(value)


# ---- keras.ops.image ---------------------------------------------------------------------------
img = rng.random((2, 5, 7, 3)).astype("float32")
put("img", img)
for interp in ("bilinear", "nearest", "bicubic"):
    for size in ((3, 4), (9, 11)):
        for aa in (False, True):
            key = f"resize_{interp}_{size[0]}x{size[1]}_{int(aa)}"
            put(key, ops.image.resize(img, size, interpolation=interp, antialias=aa))
put("resize_crop", ops.image.resize(img, (4, 4), crop_to_aspect_ratio=True))
put("resize_pad", ops.image.resize(img, (4, 4), pad_to_aspect_ratio=True, fill_value=0.5))
put("resize_pad_wide", ops.image.resize(img, (2, 6), pad_to_aspect_ratio=True))
put("resize_cf", ops.image.resize(np.transpose(img, (0, 3, 1, 2)), (3, 4),
                                  data_format="channels_first"))
img_u8 = (img * 255).astype("uint8")
put("img_u8", img_u8)
put("resize_u8", ops.image.resize(img_u8, (3, 4)))
put("crop", ops.image.crop_images(img, 1, 2, target_height=3, target_width=4))
put("crop_b", ops.image.crop_images(img, top_cropping=1, bottom_cropping=2, left_cropping=0,
                                    right_cropping=3))
put("pad", ops.image.pad_images(img, 1, 2, target_height=8, target_width=10))
put("gray", ops.image.rgb_to_grayscale(img))
hsv_in = np.concatenate([img, np.array([[[[0.2, 0.2, 0.2], [1, 0, 0], [0, 0, 0], [0.5, 0.5, 1],
                                          [0, 1, 0], [0.3, 0.7, 0.7], [1, 1, 0]]]] * 2,
                                       "float32")], axis=1)
put("hsv_in", hsv_in)
put("rgb_to_hsv", ops.image.rgb_to_hsv(hsv_in))
put("hsv_to_rgb", ops.image.hsv_to_rgb(hsv_in))
transforms = np.array([[1.1, 0.2, -0.7, -0.15, 0.9, 0.4, 0.0, 0.0],
                       [0.8, -0.3, 1.6, 0.25, 1.2, -2.3, 0.01, -0.02]], "float32")
put("transforms", transforms)
for interp in ("nearest", "bilinear"):
    for mode in ("constant", "nearest", "wrap", "reflect"):  # TF has no 'mirror' here
        put(f"affine_{interp}_{mode}",
            ops.image.affine_transform(img, transforms, interpolation=interp, fill_mode=mode,
                                       fill_value=0.25))
vol = rng.random((4, 5)).astype("float32")
coords = np.stack([rng.uniform(-2, 6, (3, 3)), rng.uniform(-2, 7, (3, 3))]).astype("float32")
put("mc_in", vol)
put("mc_coords", coords)
for order in (0, 1):
    for mode in ("constant", "nearest", "wrap", "mirror", "reflect"):
        try:
            put(f"mc_{order}_{mode}", ops.image.map_coordinates(vol, coords, order,
                                                                fill_mode=mode, fill_value=0.5))
        except Exception as e:  # some TF fill modes fail on far out-of-range points
            print(f"map_coordinates order={order} fill_mode={mode}: {type(e).__name__}")

if __name__ == "__main__":
    np.savez_compressed(OUT, **{k: np.asarray(v) for k, v in g.items()})
    print(f"wrote {OUT}: {len(g)} arrays, {os.path.getsize(OUT)} bytes")
