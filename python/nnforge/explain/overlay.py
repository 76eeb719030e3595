"""Turning attribution maps into pictures: ``colorize`` maps a heatmap through a colormap,
``overlay`` blends it over an image. Pure NumPy (no matplotlib); both return RGB uint8 arrays
that ``PIL.Image.fromarray`` or ``nnforge.utils.array_to_img`` save as they are."""
from __future__ import annotations

import numpy as np

from nnforge import backend
from nnforge.core import Tensor

# Colormap anchors (value 0 -> first row, 1 -> last), linearly interpolated; values from
# matplotlib's "viridis" and "inferno" sampled at 0, 1/8, ..., 1.
_ANCHORS = {
    "viridis": [(68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
                (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37)],
    "inferno": [(0, 0, 4), (31, 12, 72), (85, 15, 109), (136, 34, 106), (186, 54, 85),
                (227, 89, 51), (249, 140, 10), (249, 201, 50), (252, 255, 164)],
    "gray": [(0, 0, 0), (255, 255, 255)],
}
COLORMAPS = ("jet",) + tuple(_ANCHORS)


def _to_numpy(a, name: str) -> np.ndarray:
    a = np.asarray(backend.to_numpy(a.data if isinstance(a, Tensor) else a))
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    return a


def _heat2d(heatmap, name: str = "heatmap") -> np.ndarray:
    h = _to_numpy(heatmap, name).astype(np.float64)
    if h.ndim == 3:  # (H, W, C) attributions: the largest magnitude over channels
        h = np.abs(h).max(axis=-1)
    if h.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D map (height, width) or (height, width, "
                         f"channels), got shape {h.shape}")
    return h


def _normalize(h: np.ndarray) -> np.ndarray:
    h = np.nan_to_num(h, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = float(h.min()), float(h.max())
    return (h - lo) / (hi - lo) if hi > lo else np.zeros_like(h)


def resize_bilinear(a: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a 2-D array with bilinear interpolation (pixel centres aligned, as
    ``tf.image.resize`` with ``half_pixel_centers``)."""
    h, w = a.shape
    if (h, w) == (height, width):
        return a.astype(np.float64)

    def coords(n_out, n_in):
        c = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        c = np.clip(c, 0, n_in - 1)
        i0 = np.floor(c).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, c - i0

    y0, y1, fy = coords(height, h)
    x0, x1, fx = coords(width, w)
    a = a.astype(np.float64)
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bottom = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return top * (1 - fy[:, None]) + bottom * fy[:, None]


def colorize(heatmap, colormap: str = "jet") -> np.ndarray:
    """Map a heatmap (min-max normalised) through a colormap.

    Args:
        heatmap: a 2-D map, or (height, width, channels) whose largest magnitude per pixel is used.
        colormap: ``"jet"``, ``"viridis"``, ``"inferno"`` or ``"gray"``.

    Returns:
        A ``(height, width, 3)`` uint8 RGB array.

    Example:

    >>> rgb = nnforge.explain.colorize(nnforge.explain.saliency(model, x[:1])[0])
    """
    return _apply(_normalize(_heat2d(heatmap)), colormap)


def _apply(v: np.ndarray, colormap: str) -> np.ndarray:
    if colormap == "jet":
        rgb = np.stack([np.clip(1.5 - np.abs(4.0 * v - c), 0.0, 1.0) for c in (3.0, 2.0, 1.0)],
                       axis=-1)
        return np.round(rgb * 255.0).astype(np.uint8)
    if colormap not in _ANCHORS:
        raise ValueError(f"colormap must be one of {COLORMAPS}, got {colormap!r}")
    table = np.asarray(_ANCHORS[colormap], dtype=np.float64)
    pos = v * (len(table) - 1)
    i0 = np.clip(np.floor(pos).astype(np.int64), 0, len(table) - 2)
    f = (pos - i0)[..., None]
    rgb = table[i0] * (1 - f) + table[i0 + 1] * f
    return np.round(rgb).astype(np.uint8)


def _image_rgb(image) -> np.ndarray:
    img = _to_numpy(image, "image")
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    if img.ndim != 3 or img.shape[-1] not in (3, 4):
        raise ValueError(f"overlay: image must be (height, width), (height, width, 1) or "
                         f"(height, width, 3), got shape {img.shape}")
    img = img[..., :3].astype(np.float64)
    if image_is_uint8_range(img, _to_numpy(image, "image").dtype):
        img = img / 255.0
    return np.clip(img, 0.0, 1.0)


def image_is_uint8_range(img: np.ndarray, dtype) -> bool:
    return np.dtype(dtype) == np.uint8 or (img.size > 0 and float(img.max()) > 1.0)


def overlay(image, heatmap, alpha: float = 0.4, colormap: str = "jet") -> np.ndarray:
    """Blend a heatmap, colour-mapped and resized to the image, over the image.

    Args:
        image: ``(height, width)``, ``(height, width, 1)`` or ``(height, width, 3)``, either
            floats in [0, 1] or values in [0, 255] (uint8 or floats above 1).
        heatmap: a 2-D map of any size (e.g. Grad-CAM's), resized bilinearly to the image; a
            (height, width, channels) map is reduced to its largest magnitude per pixel. It is
            min-max normalised before colouring.
        alpha: the heatmap's weight in the blend, in [0, 1].
        colormap: ``"jet"``, ``"viridis"``, ``"inferno"`` or ``"gray"``.

    Returns:
        A ``(height, width, 3)`` uint8 RGB array.

    Example:

    >>> cams = nnforge.explain.grad_cam(model, x_test[:1])
    >>> PIL.Image.fromarray(nnforge.explain.overlay(x_test[0], cams[0])).save("cam.png")
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"overlay: alpha must lie in [0, 1], got {alpha}")
    img = _image_rgb(image)
    h = _heat2d(heatmap)
    v = np.clip(resize_bilinear(_normalize(h), img.shape[0], img.shape[1]), 0.0, 1.0)
    heat = _apply(v, colormap).astype(np.float64) / 255.0
    out = (1.0 - alpha) * img + alpha * heat
    return np.round(np.clip(out, 0.0, 1.0) * 255.0).astype(np.uint8)
