"""Augmentations that mix or erase regions with Keras 3's semantics: MixUp, CutMix,
RandomErasing. MixUp and CutMix also mix the labels when called on
``{"images": ..., "labels": ...}``."""
from __future__ import annotations

import numpy as np

from .base_image_preprocessing import BaseImagePreprocessingLayer


def _crop_bounds(rng, n: int, length: int, ratio: np.ndarray):
    crop = (ratio * length).astype(np.float32)
    start = rng.uniform(0, 1, n).astype(np.float32) * (length - crop)
    return start, start + crop


def _box_masks(shape, x0, x1, y0, y1) -> np.ndarray:
    _, h, w, c = shape
    gy, gx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32),
                         indexing="ij")
    gx, gy = gx[None, :, :, None], gy[None, :, :, None]
    x0, x1, y0, y1 = (v[:, None, None, None] for v in (x0, x1, y0, y1))
    m = (gx >= x0) & (gx < x1) & (gy >= y0) & (gy < y1)
    return np.repeat(m, c, axis=-1)


def _mix_labels(labels, transformation) -> np.ndarray:
    """``w * labels + (1 - w) * labels[permutation]``: a batch of labels mixed as MixUp and
    CutMix mix their images (``mix_weight`` and ``permutation_order`` of the transformation)."""
    w = np.asarray(transformation["mix_weight"], np.float32).reshape(-1, 1)
    other = labels[np.asarray(transformation["permutation_order"])]
    return w * labels + (1.0 - w) * other


class MixUp(BaseImagePreprocessingLayer):
    """MixUp (``keras.layers.MixUp``): each image (and label) becomes ``w x + (1 - w) x'``
    with ``x'`` from a shuffled batch and ``w ~ Beta(alpha, alpha)``.

    Args:
        alpha: the Beta distribution's parameter (default 0.2).
        seed: integer seed.

    Example:

    >>> out = MixUp()({"images": np.random.rand(4, 8, 8, 3),
    ...                "labels": np.eye(4, dtype="float32")})
    >>> out["labels"].shape
    (4, 4)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, alpha: float = 0.2, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.alpha = alpha
        self._make_rng(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        n = images.shape[0]
        return {"mix_weight": self._rng.beta(self.alpha, self.alpha, n).astype(np.float32),
                "permutation_order": self._rng.permutation(n).astype(np.int64)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        w = np.asarray(transformation["mix_weight"], np.float32).reshape(-1, 1, 1, 1)
        other = images[np.asarray(transformation["permutation_order"])]
        return w * images + (1.0 - w) * other

    def transform_labels(self, labels, transformation, training=True):
        if not training:
            return labels
        return _mix_labels(labels, transformation)

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "seed": self.seed})
        return config


class CutMix(BaseImagePreprocessingLayer):
    """CutMix (``keras.layers.CutMix``): a random box of each image is replaced by the same box
    of another image of the batch; labels mix by the area kept. The box side ratio is
    ``sqrt(1 - w)``, ``w ~ Beta(a, a)`` with ``a`` drawn in ``factor``. A single (unbatched)
    image is left as is.

    Example:

    >>> CutMix(seed=0)(np.random.rand(4, 8, 8, 3)).shape
    (4, 8, 8, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self._make_rng(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training or self._single:
            return None
        n, h, w = images.shape[:3]
        a = float(self._rng.uniform(self.factor[0], self.factor[1])) + 1e-6
        mix = self._rng.beta(a, a, n).astype(np.float32)
        ratio = np.sqrt(1.0 - mix)
        x0, x1 = _crop_bounds(self._rng, n, w, ratio)
        y0, y1 = _crop_bounds(self._rng, n, h, ratio)
        masks = _box_masks(images.shape, x0, x1, y0, y1)
        mix = 1.0 - (x1 - x0) * (y1 - y0) / (w * h)
        return {"permutation_order": self._rng.permutation(n).astype(np.int32),
                "batch_masks": masks, "mix_weight": mix.astype(np.float32)}

    def call(self, data, training=True):
        images = data["images"] if isinstance(data, dict) else data
        self._single = len(getattr(images, "shape", np.shape(images))) == 3
        return super().call(data, training=training)

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        other = images[np.asarray(transformation["permutation_order"])]
        return np.where(np.asarray(transformation["batch_masks"]), other, images)

    def transform_labels(self, labels, transformation, training=True):
        if not training or transformation is None:
            return labels
        return _mix_labels(labels, transformation)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "seed": self.seed})
        return config

    _single = False


class RandomErasing(BaseImagePreprocessingLayer):
    """Erases a random box of each image (``keras.layers.RandomErasing``), with a probability
    drawn in ``factor``; the box's sides are ``sqrt(s)`` of the image's for ``s`` drawn in
    ``scale``; the box is filled with ``fill_value`` (a number or an RGB triple) or, when None,
    Gaussian noise times ``value_range[1]``, clipped to ``value_range``.

    Example:

    >>> RandomErasing(factor=1.0, fill_value=0.0, seed=0)(np.ones((2, 8, 8, 3))).shape
    (2, 8, 8, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        from .image_geometry import _unit_pair
        self.scale = _unit_pair(self, scale, "scale", False)
        if fill_value is not None and not isinstance(fill_value, (int, float)) and not (
                isinstance(fill_value, (tuple, list)) and len(fill_value) == 3):
            raise ValueError(f"RandomErasing '{self.name}': the `fill_value` argument should be "
                             f"a number or a list of three numbers. Received: "
                             f"fill_value={fill_value}")
        self.fill_value = fill_value
        self.value_range = value_range
        self._make_rng(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training:
            return None
        n, h, w = images.shape[:3]
        mix = np.sqrt(self._rng.uniform(self.scale[0], self.scale[1], (n, 2))).astype(np.float32)
        x0, x1 = _crop_bounds(self._rng, n, w, mix[:, 0])
        y0, y1 = _crop_bounds(self._rng, n, h, mix[:, 1])
        masks = _box_masks(images.shape, x0, x1, y0, y1)
        prob = self._rng.uniform(self.factor[0], self.factor[1], n)
        apply = self._rng.uniform(0, 1, n) < prob
        if self.fill_value is None:
            fill = self._rng.standard_normal(images.shape).astype(np.float32) * \
                np.float32(self.value_range[1])
        else:
            fill = np.broadcast_to(np.asarray(self.fill_value, np.float32), images.shape)
        fill = np.clip(fill, self.value_range[0], self.value_range[1])
        return {"apply_erasing": apply, "batch_masks": masks, "fill_value": fill}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        erased = np.where(np.asarray(transformation["batch_masks"]),
                          np.asarray(transformation["fill_value"], np.float32), images)
        apply = np.asarray(transformation["apply_erasing"])[:, None, None, None]
        return np.where(apply, erased, images)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "scale": self.scale,
                       "fill_value": self.fill_value, "value_range": self.value_range,
                       "seed": self.seed})
        return config
