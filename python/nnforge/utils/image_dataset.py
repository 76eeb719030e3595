"""``image_dataset_from_directory``: a ``PyDataset`` of image batches read from class folders.

Keras's file indexing, ordering and validation split (``keras/src/utils/dataset_utils.py``;
here in ``directory_dataset``, shared with the text and audio datasets): class folders in
alphanumeric order (or ``class_names``' order), files found by ``os.walk`` in sorted order, the
whole list shuffled once with ``np.random.RandomState(seed)`` when ``shuffle``, then the last
``int(validation_split * n)`` files are the validation subset. Images are decoded and resized
by Pillow (``pip install nnforge[images]``) when a batch is asked for.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .directory_dataset import (FileDirectoryDataset, check_batch_size_arg, check_labels_arg,
                                check_validation_split_arg, make_directory_datasets)
from .image_utils import _data_format, _require_pil, resize_image

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}
_PIL_MODES = {"rgb": "RGB", "rgba": "RGBA", "grayscale": "L"}


class ImageDirectoryDataset(FileDirectoryDataset):
    """Batches ``(images, labels)`` (or ``images``) of image files, loaded when indexed.

    Built by ``image_dataset_from_directory``; attributes ``class_names`` and ``file_paths``
    as in Keras. With ``shuffle``, the order is reshuffled at the end of every epoch (as
    ``tf.data``'s reshuffling), reproducibly from ``seed``.
    """

    def __init__(self, file_paths, labels, class_names, label_mode, image_size, color_mode,
                 batch_size, shuffle, seed, interpolation, crop_to_aspect_ratio,
                 pad_to_aspect_ratio, data_format):
        super().__init__(file_paths, labels, class_names, label_mode, batch_size, shuffle, seed)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self.color_mode = color_mode
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.data_format = data_format

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

    def load(self, path: str) -> np.ndarray:
        return self.load_image(path)

    def collate(self, items):
        return np.stack(items)


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
    check_labels_arg(labels, label_mode, class_names, "image", "images")
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
    check_batch_size_arg(batch_size)
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    data_format = _data_format(data_format)
    return make_directory_datasets(
        ImageDirectoryDataset, directory, labels, label_mode, class_names, shuffle, seed,
        validation_split, subset, follow_links, verbose, ALLOWLIST_FORMATS,
        "No {which}images found in directory {directory}. Allowed formats: "
        f"{ALLOWLIST_FORMATS}", image_size=image_size, color_mode=color_mode,
        batch_size=batch_size, interpolation=interpolation,
        crop_to_aspect_ratio=crop_to_aspect_ratio, pad_to_aspect_ratio=pad_to_aspect_ratio,
        data_format=data_format)
