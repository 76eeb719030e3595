"""``image_dataset_from_directory``: a ``PyDataset`` of image batches read from class folders.

Keras's file indexing, ordering and validation split (``keras/src/utils/dataset_utils.py``):
class folders in alphanumeric order (or ``class_names``' order), files found by ``os.walk`` in
sorted order, the whole list shuffled once with ``np.random.RandomState(seed)`` when ``shuffle``,
then the last ``int(validation_split * n)`` files are the validation subset. Images are decoded
and resized by Pillow (``pip install nnforge[images]``) when a batch is asked for.
"""
from __future__ import annotations

import math
import os
from typing import List, Optional, Sequence

import numpy as np

from .image_utils import _data_format, _require_pil, resize_image
from .io_utils import print_msg
from .py_dataset import PyDataset

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}
_PIL_MODES = {"rgb": "RGB", "rgba": "RGBA", "grayscale": "L"}


def _iter_valid_files(directory: str, follow_links: bool, formats: Sequence[str]):
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda x: x[0]):
        for fname in sorted(files):
            if fname.lower().endswith(tuple(formats)):
                yield root, fname


def index_directory(directory, labels, formats, class_names=None, shuffle: bool = True,
                    seed: Optional[int] = None, follow_links: bool = False,
                    verbose: bool = True):
    """List the files of ``directory`` with their labels, as Keras's ``index_directory``.

    Returns:
        ``(file_paths, labels, class_names)``: labels an int32 array (None without labels).
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"image_dataset_from_directory: directory {directory!r} does not exist")
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(set(subdirs)):
                raise ValueError("The `class_names` passed did not match the names of the "
                                 "subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)  # keep the given order
    else:
        subdirs = [""]
        if class_names is not None:
            raise ValueError("When `labels` is not 'inferred', argument `class_names` cannot be "
                             "specified.")
    filenames: List[str] = []
    label_list: List[int] = []
    for index, subdir in enumerate(subdirs):
        class_dir = os.path.join(directory, subdir)
        for root, fname in _iter_valid_files(class_dir, follow_links, formats):
            filenames.append(os.path.join(subdir, os.path.relpath(os.path.join(root, fname),
                                                                  class_dir)))
            label_list.append(index)
    if labels == "inferred":
        label_arr = np.asarray(label_list, dtype="int32")
        names = list(subdirs)
    elif labels is None:
        label_arr, names = None, None
    else:
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        label_arr = np.asarray(labels)
        names = [str(label) for label in sorted(set(labels))]
    if verbose:
        if label_arr is None:
            print_msg(f"Found {len(filenames)} files.")
        else:
            print_msg(f"Found {len(filenames)} files belonging to {len(names)} classes.")
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        if label_arr is not None:
            np.random.RandomState(seed).shuffle(label_arr)
    return file_paths, label_arr, names


def _split(samples, labels, validation_split, subset, verbose):
    """Keras's ``get_training_or_validation_split``: validation = the last fraction."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        if verbose:
            print_msg(f"Using {len(samples) - num_val} files for training.")
        end = len(samples) - num_val
        return samples[:end], (labels[:end] if labels is not None else None)
    if subset == "validation":
        if verbose:
            print_msg(f"Using {num_val} files for validation.")
        start = len(samples) - num_val
        return samples[start:], (labels[start:] if labels is not None else None)
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


class ImageDirectoryDataset(PyDataset):
    """Batches ``(images, labels)`` (or ``images``) of image files, loaded when indexed.

    Built by ``image_dataset_from_directory``; attributes ``class_names`` and ``file_paths``
    as in Keras. With ``shuffle``, the order is reshuffled at the end of every epoch (as
    ``tf.data``'s reshuffling), reproducibly from ``seed``.
    """

    def __init__(self, file_paths, labels, class_names, label_mode, image_size, color_mode,
                 batch_size, shuffle, seed, interpolation, crop_to_aspect_ratio,
                 pad_to_aspect_ratio, data_format):
        super().__init__()
        self.file_paths = list(file_paths)
        self.labels = labels
        self.class_names = class_names
        self.label_mode = label_mode
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.color_mode = color_mode
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format
        self._rng = np.random.default_rng(seed)
        self._order = (self._rng.permutation(len(self.file_paths)) if shuffle
                       else np.arange(len(self.file_paths)))

    def __len__(self) -> int:
        if self.batch_size is None:
            return len(self.file_paths)
        return math.ceil(len(self.file_paths) / self.batch_size)

    def load_image(self, path: str) -> np.ndarray:
        """One image: decoded, converted to ``color_mode``, resized, float32 0-255."""
        with _require_pil("image_dataset_from_directory").open(path) as img:
            img = img.convert(_PIL_MODES[self.color_mode])
            x = np.asarray(img, dtype=np.float32)
        if x.ndim == 2:
            x = x[:, :, None]
        x = resize_image(x, self.image_size, self.interpolation,
                         crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                         pad_to_aspect_ratio=self.pad_to_aspect_ratio)
        return x.transpose(2, 0, 1) if self.data_format == "channels_first" else x

    def _encode_labels(self, labels: np.ndarray) -> np.ndarray:
        if self.label_mode == "int":
            return labels.astype("int32")
        if self.label_mode == "binary":
            return labels.astype("float32").reshape(-1, 1)
        return np.eye(len(self.class_names), dtype="float32")[labels.astype("int64")]

    def __getitem__(self, index: int):
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch index {index} out of range for {len(self)} batches")
        index %= len(self)
        if self.batch_size is None:
            idx = self._order[index:index + 1]
        else:
            idx = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        images = np.stack([self.load_image(self.file_paths[i]) for i in idx])
        if self.label_mode is None:
            return images[0] if self.batch_size is None else images
        labels = self._encode_labels(np.asarray(self.labels)[idx])
        if self.batch_size is None:
            return images[0], labels[0]
        return images, labels

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._order = self._rng.permutation(len(self.file_paths))


def image_dataset_from_directory(directory, labels="inferred", label_mode: Optional[str] = "int",
                                 class_names: Optional[Sequence[str]] = None,
                                 color_mode: str = "rgb", batch_size: Optional[int] = 32,
                                 image_size=(256, 256), shuffle: bool = True,
                                 seed: Optional[int] = None,
                                 validation_split: Optional[float] = None,
                                 subset: Optional[str] = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False,
                                 pad_to_aspect_ratio: bool = False,
                                 data_format: Optional[str] = None, format: str = "tf",
                                 verbose: bool = True):
    """A dataset of image batches from a directory of class folders (Keras's
    ``keras.utils.image_dataset_from_directory``), as a ``PyDataset`` that ``fit``,
    ``evaluate`` and ``predict`` take.

    ``directory/class_a/*.png, directory/class_b/*.png`` gives labels 0 and 1 (class folders
    in alphanumeric order). Supported files: bmp, gif, jpeg, jpg, png.

    Args:
        directory: the data directory.
        labels: ``"inferred"`` (from the folder names), None (no labels), or a list of integer
            labels in the sorted order of the file paths.
        label_mode: ``"int"`` (int32 labels), ``"categorical"`` (one-hot float32),
            ``"binary"`` (float32, shape (batch, 1); exactly 2 classes) or None (no labels).
        class_names: with ``labels="inferred"``, the folders to use, in this order.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"`` (1, 3 or 4 channels).
        batch_size: images per batch; None yields single images.
        image_size: ``(height, width)`` every image is resized to.
        shuffle: shuffle the files (once when indexing, as Keras, and at every epoch end).
        seed: seed of the shuffling; required with ``validation_split`` and ``shuffle``.
        validation_split: fraction of the files kept for validation (the last ones).
        subset: ``"training"``, ``"validation"`` or ``"both"`` (returns a list of two
            datasets); only with ``validation_split``.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"`` or
            ``"lanczos3"``.
        follow_links: follow symbolic links to folders.
        crop_to_aspect_ratio: crop the largest centered region with ``image_size``'s aspect
            ratio before resizing.
        pad_to_aspect_ratio: resize to fit and pad with zeros instead of distorting.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        format: ``"tf"`` (Keras's default; here a PyDataset, no TensorFlow involved).
        verbose: print the number of files and classes found.

    Returns:
        An ``ImageDirectoryDataset`` (a ``PyDataset``) with ``class_names`` and ``file_paths``,
        or ``[train, validation]`` with ``subset="both"``. Images are float32 in 0-255.

    Example:

    >>> train_ds, val_ds = nnforge.utils.image_dataset_from_directory(
    ...     "PetImages", validation_split=0.2, subset="both", seed=1337,
    ...     image_size=(180, 180), batch_size=64)
    >>> model.fit(train_ds, epochs=5, validation_data=val_ds)
    """
    _require_pil("image_dataset_from_directory")
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple, np.ndarray)):
            raise ValueError("`labels` argument should be a list/tuple of integer labels, of "
                             "the same size as the number of image files in the target "
                             "directory. If you wish to infer the labels from the subdirectory "
                             "names in the target directory, pass `labels=\"inferred\"`. If you "
                             "wish to get a dataset that only contains images (no labels), "
                             f"pass `labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError("You can only pass `class_names` if `labels=\"inferred\"`. "
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", '
                         f'"binary", or None. Received: label_mode={label_mode}')
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if color_mode not in _CHANNELS:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. '
                         f"Received: color_mode={color_mode}")
    if interpolation not in ("bilinear", "nearest", "bicubic", "area", "lanczos3"):
        raise ValueError("Argument `interpolation` should be one of ('bilinear', 'nearest', "
                         f"'bicubic', 'area', 'lanczos3'). Received: interpolation="
                         f"{interpolation}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `pad_to_aspect_ratio`, `crop_to_aspect_ratio` can be set "
                         "to `True`.")
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')
    if len(tuple(image_size)) != 2:
        raise ValueError(f"`image_size` must be (height, width), got {image_size}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"`batch_size` must be a positive integer or None, got {batch_size!r}")
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")
    data_format = _data_format(data_format)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, label_arr, names = index_directory(directory, labels, ALLOWLIST_FORMATS,
                                              class_names=class_names, shuffle=shuffle,
                                              seed=seed, follow_links=follow_links,
                                              verbose=verbose)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={names}")

    def make(subset_name, shuffle_subset):
        p, l = _split(paths, label_arr, validation_split, subset_name, verbose)
        if not p:
            which = f"{subset_name} " if subset_name else ""
            raise ValueError(f"No {which}images found in directory {os.fspath(directory)}. "
                             f"Allowed formats: {ALLOWLIST_FORMATS}")
        return ImageDirectoryDataset(p, l, names, label_mode, image_size, color_mode,
                                     batch_size, shuffle_subset, seed, interpolation,
                                     crop_to_aspect_ratio, pad_to_aspect_ratio, data_format)

    if subset == "both":
        return [make("training", shuffle), make("validation", False)]
    return make(subset, shuffle)
