"""utils.image_dataset_from_directory: Keras's indexing and splits, and a CNN trained on it."""
import os

import numpy as np
import pytest

PIL_Image = pytest.importorskip("PIL.Image")

import nnforge as keras  # noqa: E402
from nnforge import layers  # noqa: E402


def make_image(kind, rng, size=(20, 24)):
    """Class "horizontal": bright horizontal stripes; class "vertical": vertical ones."""
    h, w = size
    img = rng.integers(0, 60, (h, w, 3)).astype("uint8")
    period = int(rng.integers(3, 6))
    if kind == "horizontal":
        img[::period] = 230
    else:
        img[:, ::period] = 230
    return img


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for kind in ("vertical", "horizontal"):
        os.makedirs(root / kind / "nested")
        for i in range(40):
            sub = "nested" if i % 10 == 0 else ""  # os.walk finds files in sub-folders too
            PIL_Image.fromarray(make_image(kind, rng)).save(root / kind / sub / f"{i:03d}.png")
    (root / "vertical" / "notes.txt").write_text("not an image")
    os.makedirs(root / ".hidden")
    return root


def keras_file_order(root, class_names, seed):
    """Keras's index_directory order, spelled out: classes in order, os.walk sorted, then one
    RandomState(seed) shuffle of the whole list."""
    paths, labels = [], []
    for index, name in enumerate(class_names):
        for dirpath, _, files in sorted(os.walk(root / name), key=lambda x: x[0]):
            for f in sorted(files):
                if f.endswith(".png"):
                    paths.append(os.path.join(str(root), name,
                                              os.path.relpath(os.path.join(dirpath, f),
                                                              root / name)))
                    labels.append(index)
    np.random.RandomState(seed).shuffle(paths)
    labels = np.asarray(labels, "int32")
    np.random.RandomState(seed).shuffle(labels)
    return paths, labels


def test_class_names_file_order_and_split(image_dir):
    train, val = keras.utils.image_dataset_from_directory(
        image_dir, validation_split=0.25, subset="both", seed=7, image_size=(16, 16),
        batch_size=8, verbose=False)
    assert isinstance(train, keras.utils.PyDataset)
    assert train.class_names == val.class_names == ["horizontal", "vertical"]
    paths, labels = keras_file_order(image_dir, ["horizontal", "vertical"], 7)
    assert train.file_paths + val.file_paths == paths
    assert len(val.file_paths) == int(0.25 * 80) and len(train) == 60 // 8 + 1
    only_val = keras.utils.image_dataset_from_directory(
        image_dir, validation_split=0.25, subset="validation", seed=7, verbose=False)
    assert only_val.file_paths == val.file_paths
    x, y = val[0]  # validation is not shuffled: its first batch is its first files
    assert x.shape == (8, 16, 16, 3) and x.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_array_equal(y, labels[60:68])
    assert 0 <= x.min() and x.max() <= 255


def test_label_modes_class_names_and_formats(image_dir):
    ds = keras.utils.image_dataset_from_directory(
        image_dir, class_names=["vertical", "horizontal"], label_mode="categorical",
        color_mode="grayscale", image_size=(10, 12), batch_size=5, shuffle=False,
        verbose=False)
    x, y = ds[0]
    assert x.shape == (5, 10, 12, 1) and y.shape == (5, 2) and y.dtype == np.float32
    np.testing.assert_array_equal(y, np.tile([1.0, 0.0], (5, 1)))  # "vertical" is class 0
    # os.walk order: the class folder's own files first, then its sub-folder's.
    assert os.path.basename(ds.file_paths[0]) == "001.png"
    assert ds.file_paths[36] == os.path.join(str(image_dir), "vertical", "nested", "000.png")
    binary = keras.utils.image_dataset_from_directory(
        image_dir, label_mode="binary", shuffle=False, batch_size=None, image_size=(8, 8),
        data_format="channels_first", verbose=False)
    img, label = binary[0]
    assert img.shape == (3, 8, 8) and label.shape == (1,)
    unlabeled = keras.utils.image_dataset_from_directory(
        image_dir, labels=None, batch_size=4, image_size=(8, 8), shuffle=False, verbose=False)
    assert unlabeled.class_names is None and unlabeled[0].shape == (4, 8, 8, 3)
    with pytest.raises(ValueError, match="seed"):
        keras.utils.image_dataset_from_directory(image_dir, validation_split=0.2,
                                                 subset="training")
    with pytest.raises(ValueError, match="class_names"):
        keras.utils.image_dataset_from_directory(image_dir, class_names=["cats"])
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_resize_matches_pillow_and_crop(image_dir):
    ds = keras.utils.image_dataset_from_directory(
        image_dir, shuffle=False, batch_size=1, image_size=(10, 12), verbose=False)
    x, _ = ds[0]
    src = np.asarray(PIL_Image.open(ds.file_paths[0]).convert("RGB"), "float32")
    for c in range(3):
        plane = PIL_Image.fromarray(src[:, :, c], "F").resize((12, 10), PIL_Image.BILINEAR)
        np.testing.assert_allclose(x[0, :, :, c], np.asarray(plane), atol=1e-4)
    cropped = keras.utils.image_dataset_from_directory(
        image_dir, shuffle=False, batch_size=1, image_size=(20, 10), crop_to_aspect_ratio=True,
        interpolation="nearest", verbose=False)
    xc, _ = cropped[0]
    # (20, 24) -> centered (20, 10) crop, no resize needed beyond the crop: columns 7..16.
    np.testing.assert_array_equal(xc[0], src[:, 7:17])


def test_trains_a_small_cnn_to_high_accuracy(image_dir):
    keras.utils.set_random_seed(0)
    train, val = keras.utils.image_dataset_from_directory(
        image_dir, validation_split=0.25, subset="both", seed=1, image_size=(20, 24),
        batch_size=10, verbose=False)
    model = keras.Sequential([
        keras.Input((20, 24, 3)), layers.Rescaling(1 / 255),
        layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(8, 3, activation="relu"), layers.GlobalMaxPooling2D(),
        layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train, epochs=5, validation_data=val, verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.95, history.history
    assert history.history["accuracy"][-1] >= 0.95
