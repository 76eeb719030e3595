"""keras.ops.image against Keras 3 (TensorFlow backend) goldens, gradients, errors."""
import os

import numpy as np
import pytest

import nnforge as keras
from nnforge import ops
from tests.helpers import check_grads

G = np.load(os.path.join(os.path.dirname(__file__), "..", "golden", "prep.npz"))
IMG = G["img"]


@pytest.mark.parametrize("interp", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("size", [(3, 4), (9, 11)])
@pytest.mark.parametrize("aa", [False, True])
def test_resize_matches_keras(interp, size, aa):
    key = f"resize_{interp}_{size[0]}x{size[1]}_{int(aa)}"
    out = ops.image.resize(IMG, size, interpolation=interp, antialias=aa).numpy()
    np.testing.assert_allclose(out, G[key], rtol=1e-5, atol=1e-5)


def test_resize_aspect_ratio_channels_first_and_integers():
    np.testing.assert_allclose(ops.image.resize(IMG, (4, 4), crop_to_aspect_ratio=True).numpy(),
                               G["resize_crop"], atol=1e-5)
    np.testing.assert_allclose(ops.image.resize(IMG, (4, 4), pad_to_aspect_ratio=True,
                                                fill_value=0.5).numpy(), G["resize_pad"],
                               atol=1e-5)
    np.testing.assert_allclose(ops.image.resize(IMG, (2, 6), pad_to_aspect_ratio=True).numpy(),
                               G["resize_pad_wide"], atol=1e-5)
    cf = ops.image.resize(np.transpose(IMG, (0, 3, 1, 2)), (3, 4), data_format="channels_first")
    np.testing.assert_allclose(cf.numpy(), G["resize_cf"], atol=1e-5)
    u8 = ops.image.resize(G["img_u8"], (3, 4)).numpy()
    assert u8.dtype == np.uint8
    assert np.abs(u8.astype(int) - G["resize_u8"].astype(int)).max() <= 1
    assert ops.image.resize(IMG[0], (3, 4)).shape == (3, 4, 3)


def test_resize_errors():
    with pytest.raises(ValueError, match="size"):
        ops.image.resize(IMG, (3,))
    with pytest.raises(ValueError, match="rank"):
        ops.image.resize(IMG[0, 0], (3, 3))
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(IMG, (3, 3), interpolation="area")
    with pytest.raises(ValueError, match="only one"):
        ops.image.resize(IMG, (3, 3), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


@pytest.mark.parametrize("interp", ["bilinear", "bicubic", "nearest"])
def test_resize_gradient(interp):
    x = np.random.default_rng(0).random((1, 3, 4, 2))
    check_grads(lambda t: ops.image.resize(t, (5, 3), interpolation=interp), [x])


def test_crop_pad_gray():
    np.testing.assert_array_equal(
        ops.image.crop_images(IMG, 1, 2, target_height=3, target_width=4).numpy(), G["crop"])
    np.testing.assert_array_equal(
        ops.image.crop_images(IMG, top_cropping=1, bottom_cropping=2, left_cropping=0,
                              right_cropping=3).numpy(), G["crop_b"])
    np.testing.assert_array_equal(ops.image.pad_images(IMG, 1, 2, target_height=8,
                                                       target_width=10).numpy(), G["pad"])
    np.testing.assert_allclose(ops.image.rgb_to_grayscale(IMG).numpy(), G["gray"], rtol=1e-6)
    with pytest.raises(ValueError, match="exactly two"):
        ops.image.crop_images(IMG, 1, 1)
    with pytest.raises(ValueError, match="exceeds"):
        ops.image.crop_images(IMG, 4, 0, target_height=3, target_width=2)
    with pytest.raises(ValueError, match="bottom_padding must be >= 0"):
        ops.image.pad_images(IMG, 4, 0, target_height=6, target_width=8)
    with pytest.raises(ValueError, match="channel"):
        ops.image.rgb_to_grayscale(np.ones((2, 2, 2)))
    x = np.random.default_rng(1).random((1, 3, 3, 3))
    check_grads(lambda t: ops.image.crop_images(t, 1, 0, target_height=2, target_width=2), [x])
    check_grads(lambda t: ops.image.pad_images(t, 1, 0, target_height=5, target_width=4), [x])
    check_grads(lambda t: ops.image.rgb_to_grayscale(t), [x])


def test_hsv_matches_keras_and_round_trips():
    x = G["hsv_in"]
    hsv = ops.image.rgb_to_hsv(x).numpy()
    np.testing.assert_allclose(hsv, G["rgb_to_hsv"], atol=1e-6)
    np.testing.assert_allclose(ops.image.hsv_to_rgb(x).numpy(), G["hsv_to_rgb"], atol=1e-6)
    np.testing.assert_allclose(ops.image.hsv_to_rgb(hsv).numpy(), x, atol=1e-6)
    with pytest.raises(ValueError, match="float"):
        ops.image.rgb_to_hsv(np.ones((2, 2, 3), np.uint8))
    r = np.random.default_rng(2).uniform(0.1, 0.9, (1, 2, 2, 3))
    check_grads(lambda t: ops.image.hsv_to_rgb(t), [r], eps=1e-3)
    check_grads(lambda t: ops.image.rgb_to_hsv(t), [r], eps=1e-3)


@pytest.mark.parametrize("interp", ["nearest", "bilinear"])
@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "reflect"])
def test_affine_transform_matches_keras(interp, mode):
    out = ops.image.affine_transform(IMG, G["transforms"], interpolation=interp, fill_mode=mode,
                                     fill_value=0.25).numpy()
    np.testing.assert_allclose(out, G[f"affine_{interp}_{mode}"], atol=2e-5)


def test_affine_transform_identity_gradient_and_errors():
    eye = [1, 0, 0, 0, 1, 0, 0, 0]
    np.testing.assert_allclose(ops.image.affine_transform(IMG, eye).numpy(), IMG)
    np.testing.assert_allclose(ops.image.affine_transform(IMG[0], eye, fill_mode="mirror")
                               .numpy(), IMG[0])
    x = np.random.default_rng(3).random((1, 4, 4, 1))
    check_grads(lambda t: ops.image.affine_transform(t, [0.9, 0.1, 0.3, -0.1, 1.1, 0.2, 0, 0]),
                [x])
    with pytest.raises(ValueError, match="fill_mode"):
        ops.image.affine_transform(IMG, eye, fill_mode="edge")
    with pytest.raises(ValueError, match="transform"):
        ops.image.affine_transform(IMG, [1, 0, 0])


@pytest.mark.parametrize("order", [0, 1])
@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap"])
def test_map_coordinates_matches_keras(order, mode):
    out = ops.image.map_coordinates(G["mc_in"], G["mc_coords"], order, fill_mode=mode,
                                    fill_value=0.5).numpy()
    np.testing.assert_allclose(out, G[f"mc_{order}_{mode}"], atol=1e-5)


def test_map_coordinates_mirror_and_gradient():
    a = np.arange(4.0)
    # mirror: d c b | a b c d | c b a
    out = ops.image.map_coordinates(a, [[-1.0, -2.0, 4.0, 5.0]], 0, fill_mode="mirror").numpy()
    np.testing.assert_array_equal(out, [1, 2, 2, 1])
    # reflect: d c b a | a b c d | d c b a (scipy's and Keras's JAX/NumPy backends; Keras's
    # TensorFlow backend mirrors negative indices instead, so no TF golden here)
    out = ops.image.map_coordinates(a, [[-1.0, -2.0, 4.0, 5.0]], 0, fill_mode="reflect").numpy()
    np.testing.assert_array_equal(out, [0, 1, 3, 2])
    c = G["mc_coords"]
    check_grads(lambda t: ops.image.map_coordinates(t, c, 1), [G["mc_in"].astype(np.float64)])


def test_image_ops_on_keras_tensors():
    inp = keras.Input((6, 6, 3))
    out = ops.image.resize(inp, (3, 3))
    model = keras.Model(inp, out)
    x = np.random.default_rng(4).random((2, 6, 6, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               ops.image.resize(x, (3, 3)).numpy(), atol=1e-6)


def test_gaussian_blur_matches_keras_and_gradient():
    np.testing.assert_allclose(ops.image.gaussian_blur(IMG, (3, 3), (1.0, 1.0)).numpy(),
                               G["blur_3"], atol=1e-6)
    np.testing.assert_allclose(ops.image.gaussian_blur(IMG, (5, 5), (0.8, 1.7)).numpy(),
                               G["blur_5_2"], atol=1e-6)
    cf = ops.image.gaussian_blur(np.transpose(IMG, (0, 3, 1, 2)), (3, 3), (1.2, 1.2),
                                 data_format="channels_first")
    np.testing.assert_allclose(cf.numpy(), G["blur_cf"], atol=1e-6)
    x = np.random.default_rng(5).random((1, 4, 5, 2))
    check_grads(lambda t: ops.image.gaussian_blur(t, (3, 3), (0.9, 0.9)), [x])
    check_grads(lambda t: ops.image.gaussian_blur(t, (2, 4), (0.9, 1.3)), [x])


@pytest.mark.parametrize("interp", ["bilinear", "nearest"])
def test_perspective_transform_matches_keras(interp):
    out = ops.image.perspective_transform(IMG, G["persp_start"], G["persp_end"],
                                          interpolation=interp, fill_value=0.5).numpy()
    np.testing.assert_allclose(out, G[f"persp_{interp}"], atol=1e-4)
    with pytest.raises(ValueError, match="shape"):
        ops.image.perspective_transform(IMG, G["persp_start"][:, :3], G["persp_end"][:, :3])


def test_elastic_transform_properties():
    x = np.random.default_rng(6).random((2, 9, 9, 3)).astype(np.float32)
    np.testing.assert_allclose(ops.image.elastic_transform(x, alpha=0.0, seed=1).numpy(), x,
                               atol=1e-6)
    a = ops.image.elastic_transform(x, alpha=5.0, sigma=1.0, seed=3).numpy()
    b = ops.image.elastic_transform(x, alpha=5.0, sigma=1.0, seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, x)
    assert a.min() >= x.min() - 1e-6 and a.max() <= x.max() + 1e-6  # bilinear + reflect
    cf = ops.image.elastic_transform(np.transpose(x, (0, 3, 1, 2)), alpha=5.0, sigma=1.0,
                                     seed=3, data_format="channels_first").numpy()
    np.testing.assert_allclose(np.transpose(cf, (0, 2, 3, 1)), a, atol=1e-6)
    check_grads(lambda t: ops.image.elastic_transform(t, alpha=3.0, sigma=1.0, seed=2),
                [x[:1, :5, :5, :1].astype(np.float64)])


def test_sobel_edges_matches_keras_and_gradient():
    np.testing.assert_allclose(ops.image.sobel_edges(IMG).numpy(), G["sobel"], atol=1e-5)
    cf = ops.image.sobel_edges(np.transpose(IMG, (0, 3, 1, 2)), data_format="channels_first")
    np.testing.assert_allclose(cf.numpy(), G["sobel_cf"], atol=1e-5)
    x = np.random.default_rng(7).random((1, 4, 5, 2))
    check_grads(lambda t: ops.image.sobel_edges(t), [x])


def test_ssim_matches_keras_and_gradient():
    out = ops.image.ssim(IMG, G["img_b"], filter_size=3, filter_sigma=1.0).numpy()
    np.testing.assert_allclose(out, G["ssim"], rtol=1e-4, atol=1e-5)
    out = ops.image.ssim(IMG[0] * 255, G["img_b"][0] * 255, max_val=255.0, filter_size=5,
                         filter_sigma=0.8, k1=0.02, k2=0.05).numpy()
    np.testing.assert_allclose(out, G["ssim_255"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ops.image.ssim(IMG, IMG, filter_size=3).numpy(), 1.0, atol=1e-5)
    check_grads(lambda t: ops.image.ssim(t, G["img_b"][:1, :4, :4].astype(np.float32),
                                         filter_size=3), [IMG[:1, :4, :4].astype(np.float64)],
                eps=1e-3)
    with pytest.raises(ValueError, match="same shape"):
        ops.image.ssim(IMG, IMG[:, :4])


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("aa", [True, False])
def test_scale_and_translate_matches_keras(method, aa):
    out = ops.image.scale_and_translate(IMG, (2, 9, 4, 3), (1.6, 0.55), (0.7, -0.4), (1, 2),
                                        method, antialias=aa).numpy()
    np.testing.assert_allclose(out, G[f"st_{method}_{int(aa)}"], atol=1e-5)


def test_scale_and_translate_gradient_and_errors():
    x = np.random.default_rng(8).random((3, 4, 2))
    check_grads(lambda t: ops.image.scale_and_translate(t, (5, 2, 2), (1.5, 0.6), (0.2, 0.1),
                                                        (0, 1), "bicubic"), [x])
    with pytest.raises(ValueError, match="method"):
        ops.image.scale_and_translate(x, (3, 4, 2), (1.0,), (0.0,), (0,), "area")


def test_extract_patches_match_keras():
    np.testing.assert_array_equal(ops.image.extract_patches(IMG, 2).numpy(), G["patches"])
    np.testing.assert_allclose(ops.image.extract_patches(IMG, (2, 3), strides=(1, 2),
                                                         padding="same").numpy(),
                               G["patches_same"])
    np.testing.assert_allclose(ops.image.extract_patches(IMG[0], 2, strides=1, dilation_rate=2)
                               .numpy(), G["patches_dil"])
    vol = G["vol"]
    np.testing.assert_array_equal(ops.image.extract_patches_3d(vol, 2).numpy(), G["patches3d"])
    np.testing.assert_array_equal(
        ops.image.extract_patches_3d(vol, (2, 3, 2), strides=(1, 2, 2), padding="same").numpy(),
        G["patches3d_same"])
    np.testing.assert_array_equal(
        ops.image.extract_patches_3d(vol[0], (2, 2, 1), strides=1, dilation_rate=(2, 2, 1))
        .numpy(), G["patches3d_dil"])
    np.testing.assert_array_equal(ops.image.extract_patches(vol, (2, 2, 2)).numpy(),
                                  G["patches3d"])
    check_grads(lambda t: ops.image.extract_patches_3d(t, (2, 2, 2), strides=1, padding="same"),
                [vol[:1, :3, :3, :2, :1].astype(np.float64)])
