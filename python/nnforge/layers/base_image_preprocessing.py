"""The base of Keras 3's image preprocessing layers (``BaseImagePreprocessingLayer``):
``factor`` ranges, ``value_range`` conversions, and ``call(data, training=True)`` that draws a
transformation (``get_random_transformation``) and applies it (``transform_images``).

As in Keras, these layers augment when called directly (``training`` defaults to True) and pass
images through when a model runs them in inference (``predict``/``evaluate`` call them with
``training=False``). ``data`` is images (a 3-D image or a 4-D batch) or a dict with ``"images"``
(and ``"labels"``, which MixUp and CutMix mix). Transformations are drawn from
``nnforge.random_state`` (or the layer's ``seed``) and applied on the host, channels_last; like
nnforge's other augmentations they pass no gradient to the images."""
from __future__ import annotations

from typing import Optional

import numpy as np

from nnforge import backend, ops, random_state
from nnforge.core.tensor import Tensor

from .layer import Layer


def host_images(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return backend.to_numpy(x.data)
    if backend.is_array(x):
        return backend.to_numpy(x)
    return np.asarray(x)


def device_like(a: np.ndarray, like) -> Tensor:
    data = like.data if isinstance(like, Tensor) else like
    if backend.is_array(data) and not isinstance(data, np.ndarray):
        return Tensor(backend.of(data).asarray(a))
    return Tensor(a)


class BaseImagePreprocessingLayer(Layer):
    """Shared machinery of the image preprocessing layers (see the module docstring)."""

    _USE_BASE_FACTOR = True
    _FACTOR_BOUNDS = (-1, 1)
    _SUPPORTS_BOXES = False  # only MaxNumBoundingBoxes transforms bounding boxes in nnforge

    def __init__(self, factor=None, bounding_box_format=None, data_format: Optional[str] = None,
                 **kwargs):
        super().__init__(**kwargs)
        if bounding_box_format is not None and not self._SUPPORTS_BOXES:
            raise ValueError(f"{type(self).__name__} '{self.name}': bounding boxes are not "
                             "supported by nnforge's image preprocessing layers")
        self.bounding_box_format = bounding_box_format
        fmt = data_format or "channels_last"
        if fmt not in ("channels_last", "channels_first"):
            raise ValueError(f"{type(self).__name__} '{self.name}': data_format must be "
                             f"'channels_last' or 'channels_first', got {data_format!r}")
        self.data_format = fmt
        if self._USE_BASE_FACTOR:
            self._set_factor(factor or 0.0)
        elif factor is not None:
            raise ValueError(f"Layer {type(self).__name__} does not take a `factor` argument. "
                             f"Received: factor={factor}")

    # ---- arguments -----------------------------------------------------------------------------

    def _set_factor(self, factor) -> None:
        lo_b, hi_b = self._FACTOR_BOUNDS
        msg = (f"{type(self).__name__} '{self.name}': the `factor` argument should be a number "
               f"(or a list of two numbers) in the range [{lo_b}, {hi_b}]. Received: "
               f"factor={factor}")
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or factor[0] > hi_b or factor[1] < lo_b:
                raise ValueError(msg)
            lower, upper = sorted(factor)
        elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
            if factor < lo_b or factor > hi_b:
                raise ValueError(msg)
            factor = abs(factor)
            lower, upper = max(-factor, lo_b), factor
        else:
            raise ValueError(msg)
        self.factor = (lower, upper)

    def _set_value_range(self, value_range) -> None:
        if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
            raise ValueError(f"{type(self).__name__} '{self.name}': the `value_range` argument "
                             f"should be a list of two numbers. Received: "
                             f"value_range={value_range}")
        self.value_range = sorted(value_range)

    def _make_rng(self, seed) -> None:
        self.seed = seed
        self._rng = random_state.make_rng(seed)

    @staticmethod
    def _transform_value_range(images, original_range, target_range):
        if original_range[0] == target_range[0] and original_range[1] == target_range[1]:
            return images
        lo, hi = np.float32(original_range[0]), np.float32(original_range[1])
        tlo, thi = np.float32(target_range[0]), np.float32(target_range[1])
        return ((images.astype(np.float32) - lo) / (hi - lo)) * (thi - tlo) + tlo

    # ---- the call ------------------------------------------------------------------------------

    def get_random_transformation(self, images: np.ndarray, training: bool = True,
                                  seed=None):
        """The random parameters for a batch of channels_last ``images`` (None: none)."""
        return None

    def transform_images(self, images: np.ndarray, transformation, training: bool = True):
        """Apply ``transformation`` to a float32 channels_last batch (override)."""
        raise NotImplementedError

    def transform_labels(self, labels, transformation, training: bool = True):
        return labels

    def _to_last(self, a):
        return np.moveaxis(a, -3, -1) if self.data_format == "channels_first" else a

    def _from_last(self, a):
        return np.moveaxis(a, -1, -3) if self.data_format == "channels_first" else a

    def call(self, data, training=True):
        if training is None:
            training = True
        if isinstance(data, dict):
            out = dict(data)
            images = data["images"]
        else:
            out, images = None, data
        a = host_images(images)
        if a.ndim not in (3, 4):
            raise ValueError(f"{type(self).__name__} '{self.name}': expected image tensor to "
                             f"have rank 3 (single image) or 4 (batch of images). Received: "
                             f"data.shape={a.shape}")
        single = a.ndim == 3
        batch = self._to_last(a[None] if single else a).astype(np.float32, copy=False)
        t = self.get_random_transformation(batch, training=training)
        res = self.transform_images(batch, t, training=training)
        res = self._from_last(np.ascontiguousarray(res, dtype=np.float32))
        res_t = device_like(res[0] if single else res, images)
        if out is None:
            return res_t
        out["images"] = res_t
        if "bounding_boxes" in data:
            if not self._SUPPORTS_BOXES:
                raise ValueError(f"{type(self).__name__} '{self.name}': bounding boxes are not "
                                 "supported by nnforge's image preprocessing layers")
            if not self.bounding_box_format:
                raise ValueError(f"{type(self).__name__} '{self.name}': `bounding_box_format` "
                                 "must be set in the constructor to transform bounding boxes")
            bb = {k: host_images(v) for k, v in data["bounding_boxes"].items()}
            if single:
                bb = {k: v[None] for k, v in bb.items()}
            bb = self.transform_bounding_boxes(bb, t, training=training)
            out["bounding_boxes"] = {k: device_like(np.asarray(v)[0] if single
                                                    else np.asarray(v), images)
                                     for k, v in bb.items()}
        if "labels" in data:
            lab = host_images(data["labels"])
            lab_b = lab[None] if single else lab
            new = np.asarray(self.transform_labels(lab_b, t, training=training))
            out["labels"] = device_like(new[0] if single else new, data["labels"])
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        if self.bounding_box_format is not None:
            config["bounding_box_format"] = self.bounding_box_format
        return config


def rgb_to_grayscale(images: np.ndarray) -> np.ndarray:
    """(..., 3) -> (..., 1) with tf.image's weights, float32 (as ops.image.rgb_to_grayscale)."""
    w = np.array([0.2989, 0.5870, 0.1140], dtype=np.float32)
    return np.tensordot(images.astype(np.float32), w, axes=([-1], [0]))[..., None]


def rgb_to_hsv(images: np.ndarray) -> np.ndarray:
    return ops.image.rgb_to_hsv(images.astype(np.float32)).numpy()


def hsv_to_rgb(images: np.ndarray) -> np.ndarray:
    return ops.image.hsv_to_rgb(images.astype(np.float32)).numpy()


def depthwise_same(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """A (kh, kw) kernel applied to each channel of NHWC images, 'same' zero padding (TF's
    split: the extra row/column of an even kernel goes after)."""
    kh, kw = kernel.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    n, h, w, c = images.shape
    p = np.pad(images, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    out = np.zeros(images.shape, dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            out += kernel[i, j] * p[:, i:i + h, j:j + w]
    return out
