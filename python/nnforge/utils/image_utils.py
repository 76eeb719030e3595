"""Image file helpers of ``keras.utils``: ``load_img``, ``img_to_array``, ``array_to_img``,
``save_img`` and ``smart_resize``, on Pillow (``pip install nnforge[images]``)."""
from __future__ import annotations

import io
import os
import pathlib
import warnings
from typing import Optional, Sequence, Tuple

import numpy as np

from nnforge import config

# Pillow is imported on first use (`import nnforge` does not pay for it).
pil_image = None
PIL_INTERPOLATION_METHODS: dict = {}


def _load_pil():
    """Import Pillow's Image module once; None when Pillow is not installed."""
    global pil_image
    if pil_image is None:
        try:
            from PIL import Image
        except ImportError:
            return None
        resampling = getattr(Image, "Resampling", Image)
        PIL_INTERPOLATION_METHODS.update({
            "nearest": resampling.NEAREST, "bilinear": resampling.BILINEAR,
            "bicubic": resampling.BICUBIC, "hamming": resampling.HAMMING,
            "box": resampling.BOX, "lanczos": resampling.LANCZOS})
        pil_image = Image
    return pil_image


PIL_MISSING = ("Could not import PIL.Image: {fn} needs Pillow (`pip install pillow`, or "
               "`pip install nnforge[images]`).")


def _require_pil(fn: str):
    """Pillow's Image module, or an ImportError naming ``fn`` and the package to install."""
    module = _load_pil()
    if module is None:
        raise ImportError(PIL_MISSING.format(fn=fn))
    return module


def _data_format(data_format: Optional[str]) -> str:
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return data_format


def array_to_img(x, data_format: Optional[str] = None, scale: bool = True,
                 dtype: Optional[str] = None):
    """Convert a 3-D array (height, width, channels) to a PIL Image.

    Args:
        x: the image array (1, 3 or 4 channels).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        scale: rescale the values so that the minimum is 0 and the maximum 255.
        dtype: dtype of the intermediate array (default float32).

    Returns:
        A PIL Image (mode "L", "I" (1 channel above 255), "RGB" or "RGBA").

    Example:

    >>> img = nnforge.utils.array_to_img(np.random.random((100, 100, 3)))
    """
    pil_image = _require_pil("array_to_img")
    data_format = _data_format(data_format)
    x = np.array(x, dtype=dtype or config.floatx())
    if x.ndim != 3:
        raise ValueError(f"Expected image array to have rank 3 (single image). Got array with "
                         f"shape: {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    if x.shape[2] == 4:
        return pil_image.fromarray(x.astype("uint8"), "RGBA")
    if x.shape[2] == 3:
        return pil_image.fromarray(x.astype("uint8"), "RGB")
    if x.shape[2] == 1:
        if np.max(x) > 255:
            return pil_image.fromarray(x[:, :, 0].astype("int32"), "I")
        return pil_image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {x.shape[2]}")


def img_to_array(img, data_format: Optional[str] = None, dtype: Optional[str] = None):
    """Convert a PIL Image to a 3-D NumPy array (a channel axis is added for grayscale).

    Args:
        img: a PIL Image.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dtype: the array's dtype (default float32).

    Returns:
        The array, values 0-255 for 8-bit images.

    Example:

    >>> x = nnforge.utils.img_to_array(nnforge.utils.load_img("cat.png"))
    """
    data_format = _data_format(data_format)
    x = np.asarray(img, dtype=dtype or config.floatx())
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1,) + x.shape) if data_format == "channels_first" else \
            x.reshape(x.shape + (1,))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


def save_img(path, x, data_format: Optional[str] = None, file_format: Optional[str] = None,
             scale: bool = True, **kwargs) -> None:
    """Save an image array to a path or file object.

    Args:
        path: a path or a file object.
        x: the image array.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        file_format: the format (``"png"``, ``"jpeg"``, ...); from the file extension when
            None (required for a file object).
        scale: rescale the values to 0-255 (see ``array_to_img``).
        **kwargs: passed to ``PIL.Image.save``.

    Example:

    >>> nnforge.utils.save_img("out.png", image_array)
    """
    _require_pil("save_img")
    data_format = _data_format(data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("The JPEG format does not support RGBA images, converting to RGB.")
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, color_mode: str = "rgb", target_size: Optional[Tuple[int, int]] = None,
             interpolation: str = "nearest", keep_aspect_ratio: bool = False):
    """Load an image file into a PIL Image.

    Args:
        path: a path (str, bytes or ``pathlib.Path``) or an ``io.BytesIO``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: ``(height, width)`` to resize to, or None for the file's size.
        interpolation: ``"nearest"``, ``"bilinear"``, ``"bicubic"``, ``"lanczos"``, ``"box"``
            or ``"hamming"``.
        keep_aspect_ratio: resize without distortion: crop the largest centered region with
            the target's aspect ratio first.

    Returns:
        A PIL Image.

    Example:

    >>> image = nnforge.utils.load_img("cat.png", target_size=(180, 180))
    >>> batch = np.array([nnforge.utils.img_to_array(image)])
    """
    pil_image = _require_pil("load_img")
    if isinstance(path, io.BytesIO):
        img = pil_image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str, os.PathLike)):
        if isinstance(path, pathlib.Path):
            path = str(path.resolve())
        with open(path, "rb") as f:
            img = pil_image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be path-like or io.BytesIO, not {type(path)}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif color_mode == "rgb":
        if img.mode != "RGB":
            img = img.convert("RGB")
    else:
        raise ValueError(f'color_mode must be "grayscale", "rgb", or "rgba", got {color_mode!r}')
    if target_size is not None:
        width_height = (int(target_size[1]), int(target_size[0]))
        if img.size != width_height:
            if interpolation not in PIL_INTERPOLATION_METHODS:
                raise ValueError(f"Invalid interpolation method {interpolation} specified. "
                                 f"Supported methods are "
                                 f"{', '.join(PIL_INTERPOLATION_METHODS)}")
            resample = PIL_INTERPOLATION_METHODS[interpolation]
            if keep_aspect_ratio:
                img = img.resize(width_height, resample,
                                 box=_center_crop_box(img.size, width_height))
            else:
                img = img.resize(width_height, resample)
    return img


def _center_crop_box(size: Sequence[int], target: Sequence[int]):
    """Keras's crop: the largest centered (left, top, right, bottom) box with ``target``'s
    aspect ratio, for (width, height) pairs."""
    width, height = size
    target_width, target_height = target
    crop_height = min(height, (width * target_height) // target_width)
    crop_width = min(width, (height * target_width) // target_height)
    top = (height - crop_height) // 2
    left = (width - crop_width) // 2
    return (left, top, left + crop_width, top + crop_height)


def smart_resize(x, size: Tuple[int, int], interpolation: str = "bilinear",
                 data_format: str = "channels_last"):
    """Resize an image (or a batch of images) to ``size`` without aspect-ratio distortion:
    take the largest centered crop with the target's aspect ratio, then resize it.

    Args:
        x: array (height, width, channels) or (batch, height, width, channels) (channels
            first with ``data_format="channels_first"``).
        size: ``(height, width)``.
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"`` or
            ``"lanczos3"`` (resampled by Pillow, per channel).
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Returns:
        A float32 array with the new height and width.

    Example:

    >>> y = nnforge.utils.smart_resize(np.zeros((340, 500, 3)), (200, 200))
    """
    _require_pil("smart_resize")
    if len(size) != 2:
        raise ValueError(f"Expected `size` to be a tuple of 2 integers, but got: {size}.")
    x = np.asarray(x, dtype=np.float32)
    if x.ndim not in (3, 4):
        raise ValueError("Expected an image array with shape `(height, width, channels)`, or "
                         "`(batch_size, height, width, channels)`, but got input with incorrect "
                         f"rank, of shape {x.shape}.")
    batched = x.ndim == 4
    if not batched:
        x = x[None]
    if data_format == "channels_first":
        x = x.transpose(0, 2, 3, 1)
    out = np.stack([resize_image(img, size, interpolation, crop_to_aspect_ratio=True)
                    for img in x])
    if data_format == "channels_first":
        out = out.transpose(0, 3, 1, 2)
    return out if batched else out[0]


_RESIZE_METHODS = {"bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic",
                   "area": "box", "lanczos3": "lanczos"}


def resize_image(image: np.ndarray, size: Tuple[int, int], interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False,
                 pad_to_aspect_ratio: bool = False) -> np.ndarray:
    """Resize one (height, width, channels) float image to ``size`` = (height, width).

    Each channel is resampled as a 32-bit float Pillow image (no 8-bit rounding). Pillow's
    filters antialias when shrinking, where ``tf.image.resize`` does not, so values can differ
    from TensorFlow's by a few levels on downscaled images.

    Args:
        image: the image.
        size: target (height, width).
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"``, ``"area"``, ``"lanczos3"``.
        crop_to_aspect_ratio: first crop the largest centered region with the target's
            aspect ratio (``smart_resize``).
        pad_to_aspect_ratio: resize to fit inside ``size`` and pad with zeros, centered.

    Returns:
        The resized float32 image.
    """
    pil_image = _require_pil("resize_image")
    if interpolation not in _RESIZE_METHODS:
        raise ValueError(f"interpolation {interpolation!r} is not supported with Pillow; "
                         f"use one of {sorted(_RESIZE_METHODS)}")
    resample = PIL_INTERPOLATION_METHODS[_RESIZE_METHODS[interpolation]]
    target_h, target_w = int(size[0]), int(size[1])
    h, w = image.shape[:2]
    box = None
    if crop_to_aspect_ratio:
        left, top, right, bottom = _center_crop_box((w, h), (target_w, target_h))
        box = (left, top, max(right, left + 1), max(bottom, top + 1))
    out_h, out_w = target_h, target_w
    if pad_to_aspect_ratio:
        scale = min(target_h / h, target_w / w)
        out_h, out_w = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    channels = []
    for c in range(image.shape[2]):
        plane = pil_image.fromarray(np.ascontiguousarray(image[:, :, c], dtype=np.float32),
                                    "F")
        if (h, w) != (out_h, out_w) or box is not None:
            plane = plane.resize((out_w, out_h), resample, box=box)
        channels.append(np.asarray(plane, dtype=np.float32))
    out = np.stack(channels, axis=-1)
    if pad_to_aspect_ratio and (out_h, out_w) != (target_h, target_w):
        padded = np.zeros((target_h, target_w, out.shape[2]), np.float32)
        top, left = (target_h - out_h) // 2, (target_w - out_w) // 2
        padded[top:top + out_h, left:left + out_w] = out
        out = padded
    return out
