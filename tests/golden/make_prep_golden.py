"""Golden outputs of real Keras 3 for the preprocessing layers and ``keras.ops.image``
(tests/ops/test_image.py, tests/layers/test_lookup.py, test_text_vectorization.py,
test_image_preprocessing.py read them).

Run with the peers venv (Keras 3.15 on TensorFlow; STFTSpectrogram needs SciPy there:
`/tmp/peers/bin/python -m pip install scipy`):

    KERAS_BACKEND=tensorflow /tmp/peers/bin/python tests/golden/make_prep_golden.py

writes tests/golden/prep.npz (small shapes; strings are stored as unicode arrays)."""
import os

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402
from prep_cases import (SERIES, TARGETS, TIMESERIES_CASES, write_text_tree,  # noqa: E402
                        write_wav_tree)

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

put("blur_3", ops.image.gaussian_blur(img, (3, 3), (1.0, 1.0)))
put("blur_5_2", ops.image.gaussian_blur(img, (5, 5), (0.8, 1.7)))
put("blur_cf", ops.image.gaussian_blur(np.transpose(img, (0, 3, 1, 2)), (3, 3), (1.2, 1.2),
                                       data_format="channels_first"))
start = np.array([[[0, 0], [6, 0], [0, 4], [6, 4]], [[0, 0], [6, 0], [0, 4], [6, 4]]],
                 "float32")
end = np.array([[[1, 0.5], [5.5, 0], [0, 4], [6, 3.5]], [[0.3, 0.2], [6, 1], [0.5, 3], [5, 4]]],
               "float32")
put("persp_start", start)
put("persp_end", end)
for interp in ("bilinear", "nearest"):
    put(f"persp_{interp}", ops.image.perspective_transform(img, start, end,
                                                           interpolation=interp,
                                                           fill_value=0.5))

# ---- audio ----------------------------------------------------------------------------------------
audio = rng.standard_normal((2, 120, 2)).astype("float32")
put("audio", audio)
for mode in ("log", "magnitude", "psd", "real", "imag", "angle", "stft"):
    put(f"stft_{mode}", layers.STFTSpectrogram(mode=mode, frame_length=16, frame_step=8,
                                               fft_length=32)(audio))
put("stft_same_hamming", layers.STFTSpectrogram(mode="magnitude", frame_length=20,
                                                window="hamming", periodic=True,
                                                scaling="spectrum", padding="same",
                                                expand_dims=True)(audio))
put("stft_nowin", layers.STFTSpectrogram(mode="real", frame_length=12, window=None,
                                         scaling=None)(audio))
wave = rng.standard_normal((2, 400)).astype("float32")
put("wave", wave)
put("mel_default", layers.MelSpectrogram(fft_length=128, sequence_stride=32,
                                         num_mel_bins=16)(wave))
put("mel_custom", layers.MelSpectrogram(fft_length=128, sequence_stride=40, sequence_length=100,
                                        window="hamming", sampling_rate=8000, num_mel_bins=10,
                                        min_freq=50.0, max_freq=3000.0, mag_exp=1.0,
                                        top_db=30.0, ref_power=2.0)(wave))
put("mel_nodb", layers.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8,
                                      power_to_db=False)(wave[0]))

# ---- hashing --------------------------------------------------------------------------------------
hs = np.array([["A"], ["B"], ["C"], ["D"], ["E"], ["a longer string with spaces"], [""],
               ["x" * 70]])
put("hash_str_in", hs)
put("hash_str", layers.Hashing(num_bins=7)(hs))
put("hash_str_mask", layers.Hashing(num_bins=7, mask_value="C")(hs))
put("hash_str_salt", layers.Hashing(num_bins=7, salt=[133, 137])(hs))
put("hash_str_salt1", layers.Hashing(num_bins=7, salt=1337)(hs))
hi = np.array([[1, 2, 3], [-4, 1000000, 0]])
put("hash_int_in", hi)
put("hash_int", layers.Hashing(num_bins=11)(hi))
put("hash_int_mask", layers.Hashing(num_bins=11, mask_value=0)(hi))
put("hash_float", layers.Hashing(num_bins=11)(np.array([[1.7, -2.2, 3.0]])))
put("hash_multi", layers.Hashing(num_bins=5, output_mode="multi_hot")(hi))
put("hash_count", layers.Hashing(num_bins=5, output_mode="count")(hi))
put("hash_onehot", layers.Hashing(num_bins=5, output_mode="one_hot")(hs))
ca = np.array([1, 2, 3, -9, 1 << 40])
cb = np.array(["a", "b", "c", "d", "e"])
put("cross_a", ca)
put("cross_int_str", layers.HashedCrossing(num_bins=1000)((ca, cb)))
put("cross_str_int_int", layers.HashedCrossing(num_bins=97)((cb, ca, ca * 3)))
put("cross_onehot", layers.HashedCrossing(num_bins=6, output_mode="one_hot")(
    (ca[:, None], cb[:, None])))
put("sl_oov3", layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=3)(
    np.array(["a", "q", "zz", "b", "hello", "w"])))
put("sl_oov3_salt", layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=3, salt=[7, 9])(
    np.array(["a", "q", "zz", "b", "hello", "w"])))
put("il_farm", layers.IntegerLookup(vocabulary=[5, 6], num_oov_indices=4, oov_method="farmhash")(
    np.array([5, 7, 8, 6, 100, -3])))

put("sobel", ops.image.sobel_edges(img))
put("sobel_cf", ops.image.sobel_edges(np.transpose(img, (0, 3, 1, 2)),
                                      data_format="channels_first"))
img_b = np.clip(img + rng.normal(0, 0.1, img.shape), 0, 1).astype("float32")
put("img_b", img_b)
put("ssim", ops.image.ssim(img, img_b, filter_size=3, filter_sigma=1.0))
put("ssim_255", ops.image.ssim(img[0] * 255, img_b[0] * 255, max_val=255.0, filter_size=5,
                               filter_sigma=0.8, k1=0.02, k2=0.05))

for meth in ("linear", "cubic", "lanczos3", "lanczos5"):
    for aa in (True, False):
        put(f"st_{meth}_{int(aa)}", ops.image.scale_and_translate(
            img, (2, 9, 4, 3), (1.6, 0.55), (0.7, -0.4), (1, 2), meth, antialias=aa))

put("patches", ops.image.extract_patches(img, 2))
put("patches_same", ops.image.extract_patches(img, (2, 3), strides=(1, 2), padding="same"))
put("patches_dil", ops.image.extract_patches(img[0], 2, strides=1, dilation_rate=2))
vol = rng.random((2, 4, 5, 3, 2)).astype("float32")
put("vol", vol)
put("patches3d", ops.image.extract_patches_3d(vol, 2))
put("patches3d_same", ops.image.extract_patches_3d(vol, (2, 3, 2), strides=(1, 2, 2),
                                                   padding="same"))
put("patches3d_dil", ops.image.extract_patches_3d(vol[0], (2, 2, 1), strides=1,
                                                  dilation_rate=(2, 2, 1)))

# ---- lookups, encodings, text ------------------------------------------------------------------
S = np.array([["a", "c", "d", "d"], ["d", "z", "b", "a"]])
put("sl_in", S)
for mode in ("int", "one_hot", "multi_hot", "count"):
    lay = layers.StringLookup(vocabulary=["a", "b", "c", "d"], output_mode=mode)
    put(f"sl_{mode}", lay(S if mode != "one_hot" else S[:, :1]))
put("sl_mask", layers.StringLookup(vocabulary=["a", "b", "c"], mask_token="[MASK]")(
    np.array([["a", "[MASK]", "q"]])))
put("sl_invert", layers.StringLookup(vocabulary=["a", "b", "c"], invert=True)(
    np.array([[1, 3, 0, 2]])).numpy().astype(str))
ad = layers.StringLookup(max_tokens=5)
corpus = np.array(["b", "a", "c", "a", "b", "e", "d", "a", "e", "f", "c", "e"])
ad.adapt(corpus)
put("sl_adapt_vocab", np.array(ad.get_vocabulary()))
tfidf = layers.StringLookup(output_mode="tf_idf")
docs = np.array([["a", "b", "a"], ["c", "a", "b"], ["d", "d", "a"]])
tfidf.adapt(docs)
put("sl_tfidf_vocab", np.array(tfidf.get_vocabulary()))
put("sl_tfidf", tfidf(docs))
put("sl_tfidf_idf", tfidf.idf_weights)
tfv = layers.StringLookup(output_mode="tf_idf", vocabulary=["a", "b", "c"],
                          idf_weights=[0.5, 0.25, 0.75], pad_to_max_tokens=True, max_tokens=6)
put("sl_tfidf_given", tfv(docs))
I = np.array([[12, 1138, 42], [42, 1000, 36]])
put("il_in", I)
put("il_int", layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])(I))
put("il_oov2", layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], num_oov_indices=2)(I))
put("il_mask", layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], mask_token=0)(
    np.array([[12, 0, 7]])))
put("il_multi", layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], output_mode="multi_hot")(I))
put("il_invert", layers.IntegerLookup(vocabulary=[12, 36, 1138, 42], invert=True)(
    np.array([[1, 3, 0, 4]])))
ail = layers.IntegerLookup()
ail.adapt(np.array([3, 3, 7, 1, 7, 7, 9, 1, 3, 3]))
put("il_adapt_vocab", np.array(ail.get_vocabulary()))

C = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
for mode in ("one_hot", "multi_hot", "count"):
    put(f"ce_{mode}", layers.CategoryEncoding(num_tokens=4, output_mode=mode)(
        C if mode != "one_hot" else np.array([3, 2, 0, 1])))
put("ce_count_w", layers.CategoryEncoding(num_tokens=4, output_mode="count")(
    C, count_weights=np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])))

X = rng.standard_normal((50, 2)).astype("float32")
put("disc_x", X)
put("disc_int", layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.7])(X))
put("disc_onehot", layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.7], output_mode="one_hot")
    (X[:, :1]))
put("disc_multi", layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.7],
                                        output_mode="multi_hot")(X))
dad = layers.Discretization(num_bins=4, epsilon=0.01)
dad.adapt(X)
put("disc_adapt_bounds", np.array(dad.bin_boundaries))

TEXT = np.array(["The cat sat on the mat.", "the DOG ate my homework!",
                 "A cat, a dog... and a bird?", "mat cat"])
put("tv_text", TEXT)
tv = layers.TextVectorization(max_tokens=12, output_sequence_length=6)
tv.adapt(TEXT)
put("tv_vocab", np.array(tv.get_vocabulary()))
put("tv_int", tv(TEXT))
put("tv_int_new", tv(np.array(["an unseen cat", "dog dog dog dog dog dog dog dog"])))
tv2 = layers.TextVectorization(ngrams=2, output_mode="multi_hot")
tv2.adapt(TEXT)
put("tv2_vocab", np.array(tv2.get_vocabulary()))
put("tv2_multi", tv2(TEXT))
tv3 = layers.TextVectorization(output_mode="tf_idf", standardize="lower", split="character",
                               max_tokens=10, pad_to_max_tokens=True)
tv3.adapt(TEXT)
put("tv3_vocab", np.array(tv3.get_vocabulary()))
put("tv3_tfidf", tv3(TEXT))
tv4 = layers.TextVectorization(output_mode="count", standardize=None,
                               vocabulary=["cat", "The", "dog", "a"])
put("tv4_count", tv4(TEXT))
tv5 = layers.TextVectorization(vocabulary=["cat", "mat", "dog"])
put("tv5_int", tv5(TEXT))

# ---- Resizing / CenterCrop ---------------------------------------------------------------------
put("rs_bilinear", layers.Resizing(3, 4)(img))
put("rs_nearest_crop", layers.Resizing(4, 4, interpolation="nearest", crop_to_aspect_ratio=True)
    (img))
put("rs_bicubic_pad", layers.Resizing(6, 4, interpolation="bicubic", pad_to_aspect_ratio=True,
                                      fill_value=0.3)(img))
put("cc_small", layers.CenterCrop(3, 4)(img))
put("cc_big", layers.CenterCrop(6, 6)(img))

# ---- colour augmentations: fixed transformations replayed through Keras's transform_images ----
img255 = (rng.random((2, 5, 7, 3)) * 255).astype("float32")
img255[1, 0, 0] = [0, 0, 0]
img255[1, 4, 6] = [255, 255, 255]
put("img255", img255)


def tr(layer, transformation, x=img255):
    return np.asarray(layer.transform_images(ops.convert_to_tensor(x), transformation))


put("br", tr(layers.RandomBrightness(0.3), {"rgb_delta": np.array([[[[40.0]]], [[[-90.0]]]],
                                                                    "float32")}))
put("br_fixed", layers.RandomBrightness((0.2, 0.2), value_range=(0, 1))(img))
put("rgray", tr(layers.RandomGrayscale(0.5), np.array([True, False])[:, None, None, None]))
put("inv", tr(layers.RandomInvert(), {"apply_inversion": np.array([True, False])}))
put("inv_fixed", layers.RandomInvert((1.0, 1.0), value_range=(0, 1))(img))
put("sol", tr(layers.Solarization(), {"additions": np.array([[[[20.0]]], [[[0.0]]]], "float32"),
                                      "thresholds": np.array([[[[128.0]]], [[[60.0]]]],
                                                             "float32")}))
put("sol_fixed", layers.Solarization(value_range=(0, 1))(img))
put("post", tr(layers.RandomPosterization(4), {"shift_factor": np.array([5, 2], "uint8")}))
put("post_fixed", layers.RandomPosterization((3, 3), value_range=(0, 1))(img))
put("autoc", layers.AutoContrast()(img255))
put("autoc01", layers.AutoContrast(value_range=(0, 1))(img * 0.5 + 0.2))
put("degen", tr(layers.RandomColorDegeneration(0.5),
                {"factor": np.array([0.3, 0.9], "float32").reshape(2, 1, 1, 1)}))
put("degen_fixed", layers.RandomColorDegeneration((0.6, 0.6), value_range=(0, 1))(img))
put("sat", tr(layers.RandomSaturation(0.5), {"factor": np.array([0.4, 2.5], "float32")}))
put("sat01", tr(layers.RandomSaturation(0.5, value_range=(0, 1)),
                {"factor": np.array([0.4, 2.5], "float32")}, img))
put("sat_fixed", layers.RandomSaturation((0.8, 0.8), value_range=(0, 1))(img))
put("hue", tr(layers.RandomHue(0.5), {"factor": np.array([0.2, -0.35], "float32")}))
put("sharp", tr(layers.RandomSharpness(0.5), {"factor": np.array([0.1, 0.9], "float32")}))
put("sharp_fixed", layers.RandomSharpness((0.8, 0.8), value_range=(0, 1))(img))
put("eq", layers.Equalization()(img255))
put("eq64", layers.Equalization(bins=64, value_range=(0, 1))(img))
put("jitter_fixed", layers.RandomColorJitter(value_range=(0, 1), brightness_factor=(0.1, 0.1),
                                             saturation_factor=(0.7, 0.7))(img))

# ---- geometric / mixing augmentations: fixed transformations through transform_images --------
shear = np.array([[0.2, -0.1], [-0.3, 0.25]], "float32")
put("shear_factor", shear)
for mode in ("reflect", "wrap", "constant", "nearest"):
    for interp in ("bilinear", "nearest"):
        lay = layers.RandomShear(0.3, 0.3, fill_mode=mode, interpolation=interp, fill_value=0.2)
        put(f"shear_{mode}_{interp}", tr(lay, {"shear_factor": shear, "input_shape": img.shape},
                                         img))
pend = np.array([[[0.3, 0.2], [6, 0.5], [0.4, 3.6], [5.5, 4]],
                 [[-0.5, 0.1], [6.2, -0.3], [0.0, 4.5], [6, 3.7]]], "float32")
pstart = np.array([[[0, 0], [6, 0], [0, 4], [6, 4]]] * 2, "float32")
put("rp_end", pend)
put("rp", tr(layers.RandomPerspective(fill_value=0.1),
             {"apply_perspective": np.array([True, False]), "start_points": pstart,
              "end_points": pend, "input_shape": img.shape}, img))
put("gblur", tr(layers.RandomGaussianBlur(kernel_size=5, value_range=(0, 1)),
                {"should_apply_blur": np.array([True, False]),
                 "blur_factor": np.array([0.7, 1.4], "float32")}, img))
mix_t = {"mix_weight": np.array([0.3, 0.8], "float32"), "permutation_order": np.array([1, 0])}
put("mixup", tr(layers.MixUp(), mix_t, img))
lab = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], "float32")
put("mixup_labels", layers.MixUp().transform_labels(ops.convert_to_tensor(lab), mix_t))

put("k_rotation", layers.RandomRotation((0.1, 0.1))(img))
put("k_translation", layers.RandomTranslation((0.2, 0.2), (-0.3, -0.3))(img))
put("k_contrast", tr(layers.RandomContrast(0.5), {"contrast_factor": np.array(
    [0.6, 1.4], "float32").reshape(2, 1, 1, 1)}))

img_big = (rng.random((2, 13, 17, 3)) * 255).astype("float32")
put("img_big", img_big)
put("clahe_def", layers.ContrastLimitedAdaptiveHistogramEqualization()(img_big))
put("clahe_34", layers.ContrastLimitedAdaptiveHistogramEqualization(
    clip_limit=2.0, tile_grid_size=(3, 4))(img_big))
put("clahe_noclip", layers.ContrastLimitedAdaptiveHistogramEqualization(
    clip_limit=0.0, tile_grid_size=(2, 2), value_range=(0, 1))(img_big / 255.0))
mnb_in = rng.random((2, 5, 4)).astype("float32")
put("mnb_in", mnb_in)
mnb = layers.MaxNumBoundingBoxes(max_number=3, bounding_box_format="xyxy")(
    {"images": img, "bounding_boxes": {"boxes": mnb_in,
                                       "labels": np.arange(10.0).reshape(2, 5)}})
mnb7 = layers.MaxNumBoundingBoxes(max_number=7, fill_value=-2, bounding_box_format="xyxy")(
    {"images": img, "bounding_boxes": {"boxes": mnb_in,
                                       "labels": np.arange(10.0).reshape(2, 5)}})
put("mnb7_boxes", mnb7["bounding_boxes"]["boxes"])
put("mnb7_labels", mnb7["bounding_boxes"]["labels"])
put("mnb_boxes", mnb["bounding_boxes"]["boxes"])
put("mnb_labels", mnb["bounding_boxes"]["labels"])

# ---- keras.utils datasets -------------------------------------------------------------------------
for name, kw in TIMESERIES_CASES.items():
    ds = keras.utils.timeseries_dataset_from_array(SERIES, TARGETS, **kw)
    xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in ds])
    put(name + "_x", np.concatenate(xs) if kw["batch_size"] else np.stack(xs))
    put(name + "_y", np.concatenate(ys) if kw["batch_size"] else np.stack(ys))
    put(name + "_nb", len(xs))


import tempfile  # noqa: E402

with tempfile.TemporaryDirectory() as tmp:
    write_text_tree(tmp)
    ds = keras.utils.text_dataset_from_directory(tmp, batch_size=4, shuffle=False,
                                                 max_length=20)
    xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in ds])
    put("txt_x", np.array([t.decode() for t in np.concatenate(xs)]))
    put("txt_y", np.concatenate(ys))
    put("txt_classes", np.array(ds.class_names))
    tr_ds, va_ds = keras.utils.text_dataset_from_directory(
        tmp, batch_size=3, validation_split=0.25, subset="both", seed=7, label_mode="categorical")
    for name, d in (("txt_train", tr_ds), ("txt_val", va_ds)):
        put(name, np.array(sorted(t.decode() for x, _ in d for t in np.asarray(x))))
with tempfile.TemporaryDirectory() as tmp:
    write_wav_tree(tmp)
    ds = keras.utils.audio_dataset_from_directory(tmp, batch_size=2, shuffle=False)
    for i, (x, y) in enumerate(ds):
        put(f"wav_x{i}", np.asarray(x))
        put(f"wav_y{i}", np.asarray(y))
    ds = keras.utils.audio_dataset_from_directory(tmp, batch_size=3, shuffle=False,
                                                  output_sequence_length=60,
                                                  label_mode="binary")
    for i, (x, y) in enumerate(ds):
        put(f"wav_fixed_x{i}", np.asarray(x))
        put(f"wav_fixed_y{i}", np.asarray(y))

# ---- FeatureSpace -----------------------------------------------------------------------------
FS = keras.utils.FeatureSpace
fs_data = {"age": np.array([20.0, 30.0, 40.0, 25.0, 33.0, 51.0], "float32"),
           "city": np.array(["a", "b", "a", "c", "b", "a"]),
           "n": np.array([1, 2, 3, 1, 1, 7]),
           "h": np.array(["x", "y", "z", "x", "w", "v"]),
           "d": np.array([0.1, 0.5, 0.9, 0.3, 0.7, 0.2], "float32"),
           "r": np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "float32"),
           "f": np.array([5.0, 6.0, 7.0, 8.0, 9.0, 1.0], "float32")}
for k, v in fs_data.items():
    put("fs_in_" + k, v)
fs = FS({"age": "float_normalized", "city": "string_categorical", "n": "integer_categorical",
         "h": "string_hashed", "d": "float_discretized",
         "r": FS.float_rescaled(scale=0.5, offset=1.0), "f": "float"},
        crosses=[("city", "n")], crossing_dim=8, hashing_dim=4, num_discretization_bins=3)
fs.adapt(fs_data)
put("fs_concat", fs(fs_data))
fs2 = FS({"city": FS.string_categorical(output_mode="int"),
          "n": FS.integer_hashed(5), "age": "float"}, output_mode="dict",
         crosses=[FS.cross(("n", "city"), crossing_dim=6, output_mode="int")])
fs2_data = {k: fs_data[k] for k in ("city", "n", "age")}
fs2.adapt(fs2_data)
for k, v in fs2(fs2_data).items():
    put("fs_dict_" + k, v)

# a .keras file of an adapted TextVectorization (assets) for the loading test
tvm = keras.Sequential([keras.Input((1,), dtype="string"), tv])
tvm.save(os.path.join(os.path.dirname(OUT), "prep_textvec.keras"))

# .keras files written by Keras with preprocessing layers (loaded by the tests)
GOLD = os.path.dirname(OUT)
img_model = keras.Sequential([keras.Input((5, 7, 3)), layers.Resizing(6, 6),
                              layers.CenterCrop(4, 4), layers.AutoContrast(value_range=(0, 1)),
                              layers.RandomBrightness(0.2), layers.RandomShear(0.2),
                              layers.RandAugment(value_range=(0, 1))])
img_model.save(os.path.join(GOLD, "prep_image_model.keras"))
put("keras_img_model_out", img_model.predict(img, verbose=0))
il = layers.IntegerLookup(output_mode="multi_hot")
il.adapt(np.array([3, 3, 7, 1, 7, 7, 9, 1, 3, 3]))
di = layers.Discretization(num_bins=3)
di.adapt(np.arange(30.0))
cat_in = keras.Input((4,), dtype="int64")
num_in = keras.Input((2,))
cat_model = keras.Model([cat_in, num_in], [il(cat_in), di(num_in),
                                           layers.Hashing(num_bins=5, output_mode="count")(cat_in)])
cat_model.save(os.path.join(GOLD, "prep_cat_model.keras"))
cat_x = np.array([[3, 7, 5, 1], [9, 9, 0, 3]])
num_x = np.array([[4.0, 25.0], [12.0, 19.5]], "float32")
for i, o in enumerate(cat_model.predict([cat_x, num_x], verbose=0)):
    put(f"keras_cat_model_out{i}", o)
stft_model = keras.Sequential([keras.Input((120, 2)), layers.STFTSpectrogram(
    mode="log", frame_length=16, frame_step=8, fft_length=32)])
stft_model.layers[0].real_kernel.assign(stft_model.layers[0].real_kernel * 1.5)
stft_model.save(os.path.join(GOLD, "prep_stft_model.keras"))
put("keras_stft_model_out", stft_model.predict(audio, verbose=0))

if __name__ == "__main__":
    np.savez_compressed(OUT, **{k: np.asarray(v) for k, v in g.items()})
    print(f"wrote {OUT}: {len(g)} arrays, {os.path.getsize(OUT)} bytes")
