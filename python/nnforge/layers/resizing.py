"""Resizing and CenterCrop: deterministic image preprocessing through ``ops.image`` (so they
work on the device and pass gradients, as Keras's do)."""
from __future__ import annotations

from typing import Optional

from nnforge import ops

from .layer import Layer


def _data_format(data_format: Optional[str]) -> str:
    fmt = data_format or "channels_last"  # nnforge's only image_data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return fmt


def _hw(shape, fmt):
    return (shape[-3], shape[-2]) if fmt == "channels_last" else (shape[-2], shape[-1])


def _with_hw(shape, fmt, h, w):
    shape = list(shape)
    if fmt == "channels_last":
        shape[-3], shape[-2] = h, w
    else:
        shape[-2], shape[-1] = h, w
    return tuple(shape)


class _ImageSizeLayer(Layer):
    """An image layer whose output is ``(height, width)`` in its ``data_format``: the size
    check and the output shape Resizing and CenterCrop share."""

    def _set_size(self, height: int, width: int) -> None:
        if height < 1 or width < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': height and width must be "
                             f">= 1, got {height} and {width}")
        self.height, self.width = int(height), int(width)

    def compute_output_shape(self, input_shape):
        return _with_hw(input_shape, self.data_format, self.height, self.width)


class Resizing(_ImageSizeLayer):
    """Resizes images to ``(height, width)`` (``keras.layers.Resizing``), with
    ``ops.image.resize``'s interpolation and aspect-ratio options.

    Args:
        height, width: the output size.
        interpolation: "bilinear" (default), "nearest" or "bicubic".
        crop_to_aspect_ratio: crop the central window with the target aspect ratio first.
        pad_to_aspect_ratio: pad the short side evenly with ``fill_value`` first.
        fill_mode: only "constant".
        fill_value: the padding value.
        antialias: widen the filter when downsampling.
        data_format: "channels_last" (default) or "channels_first".

    Example:

    >>> Resizing(2, 3)(np.ones((1, 4, 4, 3))).shape
    (1, 2, 3, 3)
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, antialias: bool = False,
                 data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self._set_size(height, width)
        if interpolation not in ("bilinear", "nearest", "bicubic"):
            raise ValueError(f"Resizing '{self.name}': invalid interpolation {interpolation!r}; "
                             "expected 'bilinear', 'nearest' or 'bicubic'")
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.antialias = bool(antialias)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        return ops.image.resize(inputs, (self.height, self.width),
                                interpolation=self.interpolation, antialias=self.antialias,
                                crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                                pad_to_aspect_ratio=self.pad_to_aspect_ratio,
                                fill_mode=self.fill_mode, fill_value=self.fill_value,
                                data_format=self.data_format)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "antialias": self.antialias, "data_format": self.data_format})
        return config


class CenterCrop(_ImageSizeLayer):
    """Crops the central ``(height, width)`` window (``keras.layers.CenterCrop``); an image
    smaller than that is resized (cropped to the aspect ratio, then bilinear), as Keras's
    ``smart_resize`` does.

    Example:

    >>> CenterCrop(2, 2)(np.ones((1, 4, 5, 3))).shape
    (1, 2, 2, 3)
    """

    def __init__(self, height: int, width: int, data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self._set_size(height, width)
        self.data_format = _data_format(data_format)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        h, w = _hw(x.shape, self.data_format)
        if h >= self.height and w >= self.width:
            top, left = (h - self.height) // 2, (w - self.width) // 2
            return ops.image.crop_images(x, top, left, target_height=self.height,
                                         target_width=self.width, data_format=self.data_format)
        return ops.image.resize(x, (self.height, self.width), crop_to_aspect_ratio=True,
                                data_format=self.data_format)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "data_format": self.data_format})
        return config
