"""utils.load_img / img_to_array / array_to_img / save_img / smart_resize (Pillow)."""
import io

import numpy as np
import pytest

PIL_Image = pytest.importorskip("PIL.Image")

import nnforge as keras  # noqa: E402
from nnforge.utils import image_utils  # noqa: E402


def gradient_image(h=12, w=20):
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x + y) % 256],
                    axis=-1).astype("uint8")


def test_save_load_roundtrip_png(tmp_path):
    arr = gradient_image()
    path = tmp_path / "img.png"
    keras.utils.save_img(str(path), arr, scale=False)
    img = keras.utils.load_img(path)
    assert img.mode == "RGB" and img.size == (20, 12)
    x = keras.utils.img_to_array(img)
    assert x.dtype == np.float32 and x.shape == (12, 20, 3)
    np.testing.assert_array_equal(x, arr.astype("float32"))
    chw = keras.utils.img_to_array(img, data_format="channels_first")
    np.testing.assert_array_equal(chw, x.transpose(2, 0, 1))


def test_color_modes_and_target_size(tmp_path):
    path = tmp_path / "img.png"
    PIL_Image.fromarray(gradient_image()).save(path)
    gray = keras.utils.load_img(str(path), color_mode="grayscale")
    g = keras.utils.img_to_array(gray)
    assert g.shape == (12, 20, 1)
    expected = np.asarray(PIL_Image.open(path).convert("L"), dtype="float32")
    np.testing.assert_array_equal(g[:, :, 0], expected)
    rgba = keras.utils.img_to_array(keras.utils.load_img(path, color_mode="rgba"))
    assert rgba.shape == (12, 20, 4) and np.all(rgba[:, :, 3] == 255)
    small = keras.utils.load_img(path, target_size=(6, 10), interpolation="bilinear")
    assert small.size == (10, 6)
    expected = np.asarray(PIL_Image.open(path).resize((10, 6), PIL_Image.BILINEAR))
    np.testing.assert_array_equal(np.asarray(small), expected)
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation"):
        keras.utils.load_img(path, target_size=(5, 5), interpolation="cubic-ish")


def test_keep_aspect_ratio_crops_the_center(tmp_path):
    arr = np.zeros((10, 30, 3), "uint8")
    arr[:, 10:20] = 200  # the centered 10x10 square is bright, the sides dark
    path = tmp_path / "wide.png"
    PIL_Image.fromarray(arr).save(path)
    img = keras.utils.load_img(path, target_size=(5, 5), keep_aspect_ratio=True)
    np.testing.assert_array_equal(np.asarray(img), np.full((5, 5, 3), 200, "uint8"))
    stretched = np.asarray(keras.utils.load_img(path, target_size=(5, 5)))
    assert stretched.min() == 0  # without the crop, the dark sides are kept


def test_array_to_img_scaling_and_modes():
    x = np.linspace(-1, 1, 2 * 3 * 3, dtype="float32").reshape(2, 3, 3)
    img = keras.utils.array_to_img(x)
    a = np.asarray(img)
    assert img.mode == "RGB" and a.min() == 0 and a.max() == 255
    np.testing.assert_array_equal(a, ((x + 1) / 2 * 255).astype("uint8"))
    assert keras.utils.array_to_img(np.zeros((2, 2, 1))).mode == "L"
    assert keras.utils.array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    assert keras.utils.array_to_img(np.zeros((4, 2, 2)), data_format="channels_first").mode \
        == "RGBA"
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel number"):
        keras.utils.array_to_img(np.zeros((2, 2, 2)))


def test_save_img_to_file_object_and_jpeg(tmp_path):
    buf = io.BytesIO()
    keras.utils.save_img(buf, gradient_image(), file_format="png", scale=False)
    buf.seek(0)
    np.testing.assert_array_equal(np.asarray(keras.utils.load_img(buf)), gradient_image())
    rgba = np.concatenate([gradient_image(), np.full((12, 20, 1), 255, "uint8")], axis=-1)
    with pytest.warns(UserWarning, match="RGBA"):
        keras.utils.save_img(str(tmp_path / "a.jpg"), rgba, scale=False)
    assert keras.utils.load_img(tmp_path / "a.jpg").size == (20, 12)


def test_smart_resize_takes_the_centered_crop():
    x = np.zeros((20, 40, 2), "float32")
    x[:, 10:30] = 7.0
    y = keras.utils.smart_resize(x, (10, 10), interpolation="nearest")
    assert y.shape == (10, 10, 2)
    np.testing.assert_array_equal(y, np.full((10, 10, 2), 7.0, "float32"))
    batch = keras.utils.smart_resize(np.stack([x, x]), (5, 5))
    assert batch.shape == (2, 5, 5, 2)


def test_missing_pillow_is_named(monkeypatch):
    monkeypatch.setattr(image_utils, "_load_pil", lambda: None)
    with pytest.raises(ImportError, match="pip install pillow"):
        keras.utils.load_img("x.png")
