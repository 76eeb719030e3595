"""``keras.ops.image``: image ops on (batch, height, width, channels) or (height, width,
channels) arrays (``channels_first`` too, through ``data_format``).

Every function runs through the array library of the backend that owns the data (NumPy or CuPy)
and returns an nnforge Tensor. ``resize``, ``crop_images``, ``pad_images``, ``rgb_to_grayscale``,
``affine_transform`` and ``map_coordinates`` are linear in the images, so their gradient is the
transposed map; ``rgb_to_hsv``/``hsv_to_rgb`` are composed of differentiable ops.

Numerics follow Keras 3 on its TensorFlow backend: ``resize`` is ``tf.image.resize``
(half-pixel centres), ``affine_transform`` is ``ImageProjectiveTransformV3``."""
from __future__ import annotations

from typing import Optional

import numpy as np

from nnforge import backend
from nnforge.core.tape import record
from nnforge.core.tensor import Tensor

from . import math as _unused  # noqa: F401  (loads the module; the name may be stdlib's)
import sys as _sys

_m = _sys.modules["nnforge.ops.math"]
from ._symbolic import symbolic_dispatch
from ._util import data_of

__all__ = ["affine_transform", "crop_images", "elastic_transform", "extract_patches",
           "extract_patches_3d",
           "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images",
           "perspective_transform", "resize", "rgb_to_grayscale", "rgb_to_hsv",
           "scale_and_translate", "sobel_edges", "ssim"]

RESIZE_INTERPOLATIONS = ("bilinear", "nearest", "bicubic")
AFFINE_TRANSFORM_INTERPOLATIONS = ("nearest", "bilinear")
AFFINE_TRANSFORM_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fmt(data_format: Optional[str]) -> str:
    fmt = data_format or "channels_last"  # nnforge's only image_data_format
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got "
                         f"{data_format!r}")
    return fmt


def _rank_check(fn: str, a) -> None:
    if a.ndim not in (3, 4):
        raise ValueError(f"{fn}: invalid images rank: expected rank 3 (single image) or rank 4 "
                         f"(batch of images), got input with shape images.shape="
                         f"{tuple(a.shape)}")


def _hw_axes(ndim: int, fmt: str):
    return (ndim - 3, ndim - 2) if fmt == "channels_last" else (ndim - 2, ndim - 1)


def _check_option(fn: str, name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{fn}: invalid {name} {value!r}; expected one of {allowed}")


def _float_tensor(images, a) -> Tensor:
    """``images`` (whose array is ``a``) as a Tensor, cast to float32 unless it is float."""
    x = images if isinstance(images, Tensor) else Tensor(a)
    return x if a.dtype.kind == "f" else _m.cast(x, "float32")


def _channels_last_batch(xa, fmt: str, kernel):
    """Run ``kernel`` on images ``xa`` (3-D or 4-D, in ``fmt``) as one contiguous
    ``(n, h, w, c)`` batch. ``kernel(b)`` gives ``(y, adjoint)``: ``y`` in ``b``'s layout and
    ``adjoint`` taking a gradient of ``y`` to one of ``b``. Returns ``y`` in ``xa``'s layout and
    the tape backward for a gradient in that layout."""
    xp = backend.of(xa).xp
    single = xa.ndim == 3
    channels_first = fmt == "channels_first"

    def to_batch(t):
        t = t[None] if single else t
        return xp.ascontiguousarray(xp.moveaxis(t, 1, -1) if channels_first else t)

    def from_batch(t):
        t = xp.moveaxis(t, -1, 1) if channels_first else t
        return t[0] if single else t

    y, adjoint = kernel(to_batch(xa))
    return (xp.ascontiguousarray(from_batch(y)),
            lambda g, _n: (from_batch(adjoint(to_batch(g))),))


def _apply_along(a, mat, axis):
    """``mat (out, in)`` applied along ``axis`` of ``a``."""
    xp = backend.of(a).xp
    moved = xp.moveaxis(a, axis, -1)
    out = moved @ mat.T
    return xp.moveaxis(out, -1, axis)


# ---- resize ------------------------------------------------------------------------------------

def _cubic_keys(t, a=-0.5):
    t = np.abs(t)
    return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                    np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))


def _resize_matrix(n_in: int, n_out: int, method: str, antialias: bool) -> np.ndarray:
    """The (n_out, n_in) matrix of a 1-D resize as ``tf.image.resize`` computes it."""
    scale = n_in / n_out
    m = np.zeros((n_out, n_in), dtype=np.float64)
    centres = (np.arange(n_out) + 0.5) * scale
    if method == "nearest":
        idx = np.minimum(np.floor(centres).astype(np.int64), n_in - 1)
        m[np.arange(n_out), np.maximum(idx, 0)] = 1.0
        return m
    if antialias:  # TF's scale_and_translate: kernel widened by the scale when downsampling
        ks = max(scale, 1.0)
        support = {"bilinear": 1.0, "bicubic": 2.0}[method] * ks
        j = np.arange(n_in)
        for i, c in enumerate(centres):
            t = (j + 0.5 - c) / ks
            w = np.maximum(0.0, 1 - np.abs(t)) if method == "bilinear" else _cubic_keys(t)
            w = np.where(np.abs(j + 0.5 - c) < support, w, 0.0)
            s = w.sum()
            m[i] = w / s if abs(s) > 1000 * np.finfo(np.float32).tiny else 0.0
        return m
    src = centres - 0.5
    if method == "bilinear":
        lo = np.floor(src)
        frac = src - lo
        i0 = np.clip(lo, 0, n_in - 1).astype(np.int64)
        i1 = np.clip(np.ceil(src), 0, n_in - 1).astype(np.int64)
        rows = np.arange(n_out)
        np.add.at(m, (rows, i0), 1 - frac)
        np.add.at(m, (rows, i1), frac)
        return m
    # bicubic: Keys a=-0.5, out-of-range taps dropped and the rest renormalised (TF's
    # half-pixel bicubic)
    base = np.floor(src)
    frac = np.rint((src - base) * 1024) / 1024  # TF reads the weights from a 1024-entry table
    for i in range(n_out):
        taps = base[i] + np.arange(-1, 3)
        w = _cubic_keys(frac[i] - np.arange(-1, 3))
        ok = (taps >= 0) & (taps <= n_in - 1)
        w = np.where(ok, w, 0.0)
        s = w.sum()
        if abs(s) >= 1000 * np.finfo(np.float32).tiny:
            w = w / s
        for t, wt, k in zip(taps, w, ok):
            if k:
                m[i, int(t)] += wt
    return m


def _linear_map(a, mats, axes):
    """Apply per-axis matrices and record the transposed maps as the gradient."""
    xp = backend.of(a).xp
    dmats = [xp.asarray(mm, dtype=a.dtype) for mm in mats]
    y = a
    for mm, ax in zip(dmats, axes):
        y = _apply_along(y, mm, ax)
    return y, dmats


def resize(images, size, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
           fill_mode: str = "constant", fill_value: float = 0.0,
           data_format: Optional[str] = None) -> Tensor:
    """Resize images to ``size`` (``keras.ops.image.resize``).

    Args:
        images: a 3-D image or 4-D batch of images.
        size: ``(height, width)`` of the output.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"``.
        antialias: widen the filter when downsampling (as ``tf.image.resize``).
        crop_to_aspect_ratio: crop the largest central window with the target aspect ratio
            before resizing.
        pad_to_aspect_ratio: pad the short side evenly (with ``fill_value``) instead.
        fill_mode: only ``"constant"``.
        fill_value: the padding value for ``pad_to_aspect_ratio``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Returns:
        The resized images, float (integer inputs are rounded back to their dtype).

    Example:

    >>> ops.image.resize(np.ones((2, 4, 4, 3)), (2, 2)).shape
    (2, 2, 2, 3)
    """
    a = data_of(images, "resize", "images")
    size = tuple(size) if isinstance(size, (list, tuple)) else size
    if not isinstance(size, tuple) or len(size) != 2:
        raise ValueError(f"resize: expected `size` to be a tuple of 2 integers, got size={size}")
    if size[0] <= 0 or size[1] <= 0:
        raise ValueError(f"resize: `size` must have positive height and width, got size={size}")
    _rank_check("resize", a)
    _check_option("resize", "interpolation", interpolation, RESIZE_INTERPOLATIONS)
    if fill_mode != "constant":
        raise ValueError(f"resize: only fill_mode='constant' is supported, got {fill_mode!r}")
    if pad_to_aspect_ratio and crop_to_aspect_ratio:
        raise ValueError("resize: only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` "
                         "can be `True`.")
    fmt = _fmt(data_format)
    th, tw = int(size[0]), int(size[1])
    x = _float_tensor(images, a)
    ha, wa = _hw_axes(a.ndim, fmt)
    h, w = a.shape[ha], a.shape[wa]
    if crop_to_aspect_ratio:
        ch = max(min(h, int(float(w * th) / tw)), 1)
        cw = max(min(w, int(float(h * tw) / th)), 1)
        hs, ws = int(float(h - ch) / 2), int(float(w - cw) / 2)
        x = _crop(x, ha, wa, hs, ch, ws, cw)
    elif pad_to_aspect_ratio:
        ph = max(h, int(float(w * th) / tw))
        pw = max(w, int(float(h * tw) / th))
        hs, ws = int(float(ph - h) / 2), int(float(pw - w) / 2)
        pads = [(0, 0)] * a.ndim
        if hs > 0:
            pads[ha] = (hs, hs)
        elif ws > 0:
            pads[wa] = (ws, ws)
        x = _m.pad(x, pads, constant_values=fill_value)
    xa = x.data
    h, w = xa.shape[ha], xa.shape[wa]
    mats = [_resize_matrix(h, th, interpolation, antialias),
            _resize_matrix(w, tw, interpolation, antialias)]
    y, dm = _linear_map(xa, mats, (ha, wa))
    out = record(y, (x,), lambda g, n: (_apply_along(_apply_along(g, dm[1].T, wa),
                                                     dm[0].T, ha),))
    if a.dtype.kind in "iub":
        info = np.iinfo(a.dtype) if a.dtype.kind != "b" else None
        r = backend.of(y).xp.round(y)
        if info is not None:
            r = backend.of(y).xp.clip(r, info.min, info.max)
        return Tensor(r.astype(a.dtype))
    return out


def _crop(x: Tensor, ha: int, wa: int, top: int, height: int, left: int, width: int) -> Tensor:
    idx = [slice(None)] * x.data.ndim
    idx[ha] = slice(top, top + height)
    idx[wa] = slice(left, left + width)
    return _m.getitem(x, tuple(idx))


# ---- crop / pad --------------------------------------------------------------------------------

def _check_three(fn, names, values):
    if list(values).count(None) != 1:
        raise ValueError(f"{fn}: must specify exactly two of {', '.join(names)}. Received: "
                         + ", ".join(f"{n}={v}" for n, v in zip(names, values)))
    for n, v in zip(names, values):
        if v is not None and v < 0:
            raise ValueError(f"{fn}: {n} must be >= 0. Received: {n}={v}")


def _crop_pad_args(fn, what, images, vertical, horizontal, data_format):
    """The array of ``images`` and its height and width axes, for ``crop_images`` (``what`` is
    ``"cropping"``) and ``pad_images`` (``"padding"``), after checking its rank and that exactly
    two of ``vertical`` (top, bottom, target_height) and of ``horizontal`` (left, right,
    target_width) are given."""
    a = data_of(images, fn, "images")
    _rank_check(fn, a)
    _check_three(fn, (f"top_{what}", f"bottom_{what}", "target_height"), vertical)
    _check_three(fn, (f"left_{what}", f"right_{what}", "target_width"), horizontal)
    ha, wa = _hw_axes(a.ndim, _fmt(data_format))
    return a, ha, wa


def _fill_in(total, before, middle, after):
    """``(before, middle, after)`` with the one that is None (if any) set so that the three sum
    to ``total``."""
    if before is None:
        before = total - middle - after
    elif middle is None:
        middle = total - before - after
    elif after is None:
        after = total - before - middle
    return before, middle, after


def _check_nonnegative(fn, a, **sizes):
    for n, v in sizes.items():
        if v < 0:
            raise ValueError(f"{fn}: {n} must be >= 0 for images of shape "
                             f"{tuple(a.shape)}. Received: {n}={v}")


def crop_images(images, top_cropping: Optional[int] = None, left_cropping: Optional[int] = None,
                bottom_cropping: Optional[int] = None, right_cropping: Optional[int] = None,
                target_height: Optional[int] = None, target_width: Optional[int] = None,
                data_format: Optional[str] = None) -> Tensor:
    """Crop images to ``(target_height, target_width)`` (``keras.ops.image.crop_images``).

    Exactly two of ``top_cropping, bottom_cropping, target_height`` and two of
    ``left_cropping, right_cropping, target_width`` must be given.

    Returns:
        The cropped images; the gradient is zero-padded back.

    Example:

    >>> ops.image.crop_images(np.ones((3, 3, 1)), 0, 0, target_height=2, target_width=2).shape
    (2, 2, 1)
    """
    a, ha, wa = _crop_pad_args("crop_images", "cropping", images,
                               (top_cropping, bottom_cropping, target_height),
                               (left_cropping, right_cropping, target_width), data_format)
    h, w = a.shape[ha], a.shape[wa]
    # top + height + bottom == h, left + width + right == w
    top_cropping, target_height, _ = _fill_in(h, top_cropping, target_height, bottom_cropping)
    left_cropping, target_width, _ = _fill_in(w, left_cropping, target_width, right_cropping)
    _check_nonnegative("crop_images", a, top_cropping=top_cropping, target_height=target_height,
                       left_cropping=left_cropping, target_width=target_width)
    if top_cropping + target_height > h or left_cropping + target_width > w:
        raise ValueError(f"crop_images: the crop ({top_cropping}+{target_height}, "
                         f"{left_cropping}+{target_width}) exceeds images of shape "
                         f"{tuple(a.shape)}")
    x = images if isinstance(images, Tensor) else Tensor(a)
    return _crop(x, ha, wa, int(top_cropping), int(target_height), int(left_cropping),
                 int(target_width))


def pad_images(images, top_padding: Optional[int] = None, left_padding: Optional[int] = None,
               bottom_padding: Optional[int] = None, right_padding: Optional[int] = None,
               target_height: Optional[int] = None, target_width: Optional[int] = None,
               data_format: Optional[str] = None) -> Tensor:
    """Pad images with zeros to ``(target_height, target_width)``
    (``keras.ops.image.pad_images``).

    Exactly two of ``top_padding, bottom_padding, target_height`` and two of
    ``left_padding, right_padding, target_width`` must be given.

    Example:

    >>> ops.image.pad_images(np.ones((15, 25, 3)), 2, 3, target_height=20,
    ...                      target_width=30).shape
    (20, 30, 3)
    """
    a, ha, wa = _crop_pad_args("pad_images", "padding", images,
                               (top_padding, bottom_padding, target_height),
                               (left_padding, right_padding, target_width), data_format)
    h, w = a.shape[ha], a.shape[wa]
    # top + h + bottom == target_height, left + w + right == target_width
    top_padding, _, bottom_padding = _fill_in(target_height, top_padding, h, bottom_padding)
    left_padding, _, right_padding = _fill_in(target_width, left_padding, w, right_padding)
    _check_nonnegative("pad_images", a, top_padding=top_padding, bottom_padding=bottom_padding,
                       left_padding=left_padding, right_padding=right_padding)
    pads = [(0, 0)] * a.ndim
    pads[ha] = (int(top_padding), int(bottom_padding))
    pads[wa] = (int(left_padding), int(right_padding))
    return _m.pad(images if isinstance(images, Tensor) else Tensor(a), pads)


# ---- colour ------------------------------------------------------------------------------------

def _channel_axis(a, fmt):
    return a.ndim - 1 if fmt == "channels_last" else a.ndim - 3


def rgb_to_grayscale(images, data_format: Optional[str] = None) -> Tensor:
    """Convert RGB images to grayscale with ``tf.image``'s weights (0.2989, 0.5870, 0.1140)
    (``keras.ops.image.rgb_to_grayscale``); the channel axis keeps size 1.

    Example:

    >>> ops.image.rgb_to_grayscale(np.ones((2, 2, 3))).shape
    (2, 2, 1)
    """
    a = data_of(images, "rgb_to_grayscale", "images")
    _rank_check("rgb_to_grayscale", a)
    fmt = _fmt(data_format)
    ca = _channel_axis(a, fmt)
    if a.shape[ca] not in (1, 3):
        raise ValueError(f"rgb_to_grayscale: invalid channel size: expected 3 (RGB) or 1 "
                         f"(Grayscale), got input with shape images.shape={tuple(a.shape)}")
    x = images if isinstance(images, Tensor) else Tensor(a)
    if a.shape[ca] == 1:
        return Tensor(a.copy()) if not isinstance(images, Tensor) else _m.multiply(x, 1)
    xp = backend.of(a).xp
    wts = np.array([0.2989, 0.5870, 0.1140])
    dt = a.dtype if a.dtype.kind == "f" else np.dtype(np.float32)
    wv = xp.asarray(wts[:, None], dtype=dt)
    y = _apply_along(a.astype(dt, copy=False), wv.T, ca)
    if a.dtype.kind != "f":
        return Tensor(y.astype(a.dtype))
    return record(y, (x,), lambda g, n: (_apply_along(g, wv, ca),))


def _float_images(fn, images, data_format):
    """The array of float ``images`` (3-D or 4-D), them as a Tensor, and their channel axis."""
    a = data_of(images, fn, "images")
    _rank_check(fn, a)
    if a.dtype.kind != "f":
        raise ValueError(f"{fn}: invalid images dtype: expected float dtype, got "
                         f"images.dtype={a.dtype}")
    x = images if isinstance(images, Tensor) else Tensor(a)
    return a, x, _channel_axis(a, _fmt(data_format))


def _split3(x: Tensor, axis: int):
    return [_m.squeeze(_m.getitem(x, tuple([slice(None)] * axis + [slice(i, i + 1)])), axis)
            for i in range(3)]


def rgb_to_hsv(images, data_format: Optional[str] = None) -> Tensor:
    """Convert float RGB images in [0, 1] to HSV, each channel in [0, 1]
    (``keras.ops.image.rgb_to_hsv``).

    Example:

    >>> ops.image.rgb_to_hsv(np.array([[[1.0, 0.0, 0.0]]])).numpy()
    array([[[0., 1., 1.]]])
    """
    a, x, ca = _float_images("rgb_to_hsv", images, data_format)
    eps = float(np.finfo(a.dtype).eps)
    x = _m.where(_m.abs(x) < eps, 0.0, x)
    r, g, b = _split3(x, ca)
    value = _m.maximum(_m.maximum(r, g), b)
    minimum = _m.minimum(_m.minimum(r, g), b)
    rng_ = _m.subtract(value, minimum)
    safe_value = _m.where(value > 0, value, 1.0)
    safe_range = _m.where(rng_ > 0, rng_, 1.0)
    sat = _m.where(value > 0, _m.divide(rng_, safe_value), 0.0)
    norm = _m.divide(1.0, _m.multiply(6.0, safe_range))
    hue = _m.where(value.data == g.data, _m.add(_m.multiply(norm, _m.subtract(b, r)), 2.0 / 6.0),
                   _m.add(_m.multiply(norm, _m.subtract(r, g)), 4.0 / 6.0))
    hue = _m.where(value.data == r.data, _m.multiply(norm, _m.subtract(g, b)), hue)
    hue = _m.add(_m.where(rng_.data > 0, hue, 0.0), (hue.data < 0).astype(a.dtype))
    return _m.cast(_m.stack([hue, sat, value], axis=ca), a.dtype)


def hsv_to_rgb(images, data_format: Optional[str] = None) -> Tensor:
    """Convert HSV images (each channel in [0, 1]) to RGB (``keras.ops.image.hsv_to_rgb``).

    Example:

    >>> ops.image.hsv_to_rgb(np.array([[[0.0, 1.0, 1.0]]])).numpy()
    array([[[1., 0., 0.]]])
    """
    a, x, ca = _float_images("hsv_to_rgb", images, data_format)
    h, s, v = _split3(x, ca)
    xp = backend.of(a).xp
    dh = _m.multiply(Tensor(xp.mod(h.data, 1.0)), 6.0)
    if h.node is not None:  # mod has slope 1 almost everywhere
        dh = _m.multiply(_m.add(_m.subtract(h, _m.stop_gradient(h)), Tensor(xp.mod(h.data, 1.0))),
                         6.0)
    dr = _m.clip(_m.subtract(_m.abs(_m.subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    dg = _m.clip(_m.subtract(2.0, _m.abs(_m.subtract(dh, 2.0))), 0.0, 1.0)
    db = _m.clip(_m.subtract(2.0, _m.abs(_m.subtract(dh, 4.0))), 0.0, 1.0)
    oms = _m.subtract(1.0, s)
    planes = [_m.multiply(v, _m.add(oms, _m.multiply(s, d))) for d in (dr, dg, db)]
    return _m.cast(_m.stack(planes, axis=ca), a.dtype)


# ---- geometric transforms ----------------------------------------------------------------------

def _map_index(coord, size: int, mode: str):
    """Fold float coordinates into range as TF's ImageProjectiveTransformV3 fill modes do
    (``static_cast<int>`` truncates toward zero)."""
    c = np.asarray(coord, dtype=np.float64)
    if mode == "constant":
        return c
    if mode == "nearest" or size <= 1:
        return np.clip(c, 0, size - 1)
    trunc = np.trunc
    if mode == "reflect":  # d c b a | a b c d | d c b a
        sz2 = 2.0 * size
        neg = c < 0
        cn = np.where(c < -sz2 + 0 * c, sz2 * trunc(-c / sz2) + c, c)
        cn = np.where(cn < -size, cn + sz2, -cn - 1)
        cp = c - sz2 * trunc(c / sz2)
        cp = np.where(cp >= size, sz2 - cp - 1, cp)
        c = np.where(neg, cn, np.where(c > size - 1, cp, c))
    elif mode == "wrap":
        sz = size - 1.0
        cn = c + size * (trunc(-c / sz) + 1)
        cp = c - size * trunc(c / sz)
        c = np.where(c < 0, cn, np.where(c > size - 1, cp, c))
    elif mode == "mirror":  # d c b | a b c d | c b a
        sz2 = 2.0 * size - 2
        cn = np.where(c < -sz2, sz2 * trunc(-c / sz2) + c, c)
        cn = np.where(cn < 1 - size, cn + sz2, -cn)
        cp = c - sz2 * trunc(c / sz2)
        cp = np.where(cp >= size, sz2 - cp, cp)
        c = np.where(c < 0, cn, np.where(c > size - 1, cp, c))
    return np.clip(c, 0, size - 1)


def _gather_weights(rows, cols, h: int, w: int, interpolation: str):
    """Per output point: up to 4 (flat index, weight) pairs; index -1 marks fill."""
    xp = backend.of(rows).xp
    if interpolation == "nearest":
        r = xp.round(rows)  # half away from zero, as std::round
        r = xp.where(rows - xp.floor(rows) == 0.5, xp.sign(rows) * xp.ceil(xp.abs(rows)), r)
        c = xp.where(cols - xp.floor(cols) == 0.5, xp.sign(cols) * xp.ceil(xp.abs(cols)),
                     xp.round(cols))
        ok = (r >= 0) & (r <= h - 1) & (c >= 0) & (c <= w - 1)
        idx = xp.where(ok, r * w + c, -1).astype(np.int64)
        return [(idx, xp.ones_like(rows))]
    r0, c0 = xp.floor(rows), xp.floor(cols)
    fr, fc = rows - r0, cols - c0
    out = []
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            r, c = r0 + dr, c0 + dc
            ok = (r >= 0) & (r <= h - 1) & (c >= 0) & (c <= w - 1)
            out.append((xp.where(ok, r * w + c, -1).astype(np.int64), wr * wc))
    return out


def _sample(a, taps, fill_value, n_out: int):
    """a: (N, H*W, C); taps: (N, P) index/weight arrays -> (N, P, C) and the backward."""
    xp = backend.of(a).xp
    n, hw, c = a.shape
    y = xp.zeros((n, n_out, c), dtype=a.dtype)
    bidx = xp.arange(n)[:, None]
    for idx, wt in taps:
        ok = idx >= 0
        vals = a[bidx, xp.where(ok, idx, 0)]
        vals = xp.where(ok[..., None], vals, a.dtype.type(fill_value))
        y += vals * wt[..., None].astype(a.dtype)

    def backward(g):
        gx = xp.zeros((n * hw, c), dtype=a.dtype)
        for idx, wt in taps:
            ok = idx >= 0
            flat = (bidx * hw + xp.where(ok, idx, 0)).reshape(-1)
            contrib = (g * (wt * ok)[..., None].astype(a.dtype)).reshape(-1, c)
            if xp is np:
                np.add.at(gx, flat, contrib)
            else:  # CuPy
                import cupyx
                cupyx.scatter_add(gx, flat, contrib)
        return gx.reshape(n, hw, c)
    return y, backward


def affine_transform(images, transform, interpolation: str = "bilinear",
                     fill_mode: str = "constant", fill_value: float = 0,
                     data_format: Optional[str] = None) -> Tensor:
    """Apply projective transforms (``keras.ops.image.affine_transform``).

    ``transform`` is ``[a0, a1, a2, b0, b1, b2, c0, c1]`` (or a batch of them): output pixel
    ``(x, y)`` reads the input at ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with
    ``k = c0 x + c1 y + 1`` (x the column, y the row).

    Args:
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"constant"`` (default), ``"nearest"``, ``"wrap"``, ``"mirror"`` or
            ``"reflect"``: how points outside the input are filled.
        fill_value: the value outside the input when ``fill_mode="constant"``.

    Example:

    >>> shift = [1, 0, -1, 0, 1, 0, 0, 0]  # read one column to the left
    >>> ops.image.affine_transform(np.ones((1, 4, 4, 1)), shift).shape
    (1, 4, 4, 1)
    """
    a = data_of(images, "affine_transform", "images")
    _rank_check("affine_transform", a)
    _check_option("affine_transform", "interpolation", interpolation,
                  AFFINE_TRANSFORM_INTERPOLATIONS)
    _check_option("affine_transform", "fill_mode", fill_mode, AFFINE_TRANSFORM_FILL_MODES)
    t = backend.to_numpy(data_of(transform, "affine_transform", "transform"))
    if t.ndim not in (1, 2) or t.shape[-1] != 8:
        raise ValueError(f"affine_transform: invalid transform shape {t.shape}: expected (8,) "
                         "or (batch, 8)")
    fmt = _fmt(data_format)
    x = _float_tensor(images, a)

    def warp(xa):
        n, h, w, c = xa.shape
        tn = np.broadcast_to(t, (n, 8)) if t.ndim == 1 else t
        if tn.shape[0] != n:
            raise ValueError(f"affine_transform: {tn.shape[0]} transforms for a batch of {n} "
                             f"images")
        # float32 arithmetic in TF's order, so points landing on .5 round the same way
        tn = tn.astype(np.float32)
        yy, xx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32),
                             indexing="ij")
        yy, xx = yy.ravel()[None], xx.ravel()[None]
        k = tn[:, 6:7] * xx + tn[:, 7:8] * yy + np.float32(1.0)
        src_x = (tn[:, 0:1] * xx + tn[:, 1:2] * yy + tn[:, 2:3]) / k
        src_y = (tn[:, 3:4] * xx + tn[:, 4:5] * yy + tn[:, 5:6]) / k
        xp = backend.of(xa).xp
        rows = xp.asarray(_map_index(src_y, h, fill_mode))
        cols = xp.asarray(_map_index(src_x, w, fill_mode))
        if fill_mode != "constant":
            rows, cols = xp.clip(rows, 0, h - 1), xp.clip(cols, 0, w - 1)
        taps = _gather_weights(rows, cols, h, w, interpolation)
        y, bwd = _sample(xa.reshape(n, h * w, c), taps, fill_value, h * w)
        return (y.reshape(n, h, w, c),
                lambda g: bwd(g.reshape(n, h * w, c)).reshape(n, h, w, c))

    y, backward = _channels_last_batch(x.data, fmt, warp)
    if a.dtype.kind != "f":
        return Tensor(backend.of(y).xp.round(y).astype(a.dtype))
    return record(y, (x,), backward)


def map_coordinates(inputs, coordinates, order: int, fill_mode: str = "constant",
                    fill_value: float = 0.0) -> Tensor:
    """Sample ``inputs`` at ``coordinates`` by interpolation of ``order`` 0 (nearest) or 1
    (linear) (``keras.ops.image.map_coordinates``, as ``scipy.ndimage.map_coordinates``).

    Args:
        inputs: an N-D array.
        coordinates: N arrays (stacked on the first axis) of the points to sample.
        order: 0 or 1.
        fill_mode: ``"constant"`` (default), ``"nearest"``, ``"wrap"``, ``"mirror"`` or
            ``"reflect"``.
        fill_value: the value outside ``inputs`` when ``fill_mode="constant"``.

    Example:

    >>> ops.image.map_coordinates(np.arange(4.0), [[0.5, 2.0]], order=1).numpy()
    array([0.5, 2. ])
    """
    a = data_of(inputs, "map_coordinates", "inputs")
    xp = backend.of(a).xp
    co = coordinates.data if isinstance(coordinates, Tensor) else coordinates
    co = [xp.asarray(backend.to_numpy(c) if not isinstance(c, np.ndarray) and
                     backend.of(c) is not backend.of(a) else c, dtype=np.float64)
          for c in (co if isinstance(co, (list, tuple)) else list(co))]
    if len(co) != a.ndim:
        raise ValueError(f"map_coordinates: coordinates must hold one array per input dimension "
                         f"({a.ndim}), got {len(co)}")
    if order not in (0, 1):
        raise ValueError(f"map_coordinates: order must be 0 or 1, got {order}")
    _check_option("map_coordinates", "fill_mode", fill_mode, AFFINE_TRANSFORM_FILL_MODES)
    shape = co[0].shape
    x = inputs if isinstance(inputs, Tensor) else Tensor(a)
    af = a.astype(np.float32) if a.dtype.kind != "f" else a
    flat = af.reshape(-1)
    strides = np.cumprod((a.shape[1:] + (1,))[::-1])[::-1]
    taps = [(xp.zeros(shape, dtype=np.int64), xp.ones(shape, dtype=af.dtype),
             xp.ones(shape, dtype=bool))]
    for d, (cd, size) in enumerate(zip(co, a.shape)):
        if order == 0:
            opts = [(xp.rint(cd), 1.0)]  # half to even, as Keras's backends round
        else:
            lo = xp.floor(cd)
            opts = [(lo, 1 - (cd - lo)), (lo + 1, cd - lo)]
        new = []
        for idx, wt, ok in taps:
            for pos, pw in opts:
                if fill_mode == "constant":
                    valid = (pos >= 0) & (pos <= size - 1)
                    p = pos
                else:
                    p = _fold_int(pos, size, fill_mode, xp)
                    valid = xp.ones(shape, dtype=bool)
                new.append((idx + xp.clip(p, 0, size - 1).astype(np.int64) * int(strides[d]),
                            wt * xp.asarray(pw, dtype=af.dtype), ok & valid))
        taps = new
    y = xp.zeros(shape, dtype=af.dtype)
    for idx, wt, ok in taps:
        y += xp.where(ok, flat[idx], af.dtype.type(fill_value)) * wt
    if fill_mode == "constant" and order == 1:
        pass

    def backward(g, _n):
        gx = xp.zeros(flat.shape, dtype=af.dtype)
        for idx, wt, ok in taps:
            contrib = (g * wt * ok).reshape(-1)
            if xp is np:
                np.add.at(gx, idx.reshape(-1), contrib)
            else:
                import cupyx
                cupyx.scatter_add(gx, idx.reshape(-1), contrib)
        return (gx.reshape(a.shape),)
    if a.dtype.kind != "f":
        return Tensor(xp.round(y).astype(a.dtype))
    return record(y, (x,), backward)


def _fold_int(pos, size: int, mode: str, xp):
    """Integer positions folded into [0, size) as scipy.ndimage's modes do."""
    if mode == "nearest":
        return xp.clip(pos, 0, size - 1)
    if mode == "wrap":  # scipy's 'grid-wrap'
        return xp.mod(pos, size)
    if mode == "mirror":  # d c b | a b c d | c b a
        if size == 1:
            return xp.zeros_like(pos)
        period = 2 * size - 2
        r = xp.mod(pos, period)
        return xp.where(r >= size, period - r, r)
    # reflect: d c b a | a b c d | d c b a
    period = 2 * size
    r = xp.mod(pos, period)
    return xp.where(r >= size, period - 1 - r, r)



# ---- blur, perspective, elastic ----------------------------------------------------------------

def _gaussian_kernel(kernel_size, sigma) -> np.ndarray:
    """Keras's 2-D Gaussian kernel: the outer product of the 1-D kernels of (size[1],
    sigma[1]) and (size[0], sigma[0]), laid out as (size[0], size[1])."""
    def k1d(size, s):
        x = np.arange(size, dtype=np.float32) - np.float32((size - 1) / 2)
        k = np.exp(np.float32(-0.5) * (x / np.float32(s)) ** 2)
        return k / k.sum()
    kh, kw = int(kernel_size[0]), int(kernel_size[1])
    return np.tensordot(k1d(kw, sigma[1]), k1d(kh, sigma[0]), axes=0).reshape(kh, kw)


def _depthwise_same(a, kernel):
    """Correlate each channel of NHWC ``a`` with ``kernel`` (kh, kw), TF's 'SAME' zero padding;
    returns the output and the transposed map (the gradient)."""
    xp = backend.of(a).xp
    kh, kw = kernel.shape
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    n, h, w, c = a.shape
    k = [[float(kernel[i, j]) for j in range(kw)] for i in range(kh)]
    p = xp.pad(a, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    out = xp.zeros(a.shape, dtype=a.dtype)
    for i in range(kh):
        for j in range(kw):
            out += a.dtype.type(k[i][j]) * p[:, i:i + h, j:j + w]

    def transposed(g):
        gp = xp.zeros(p.shape, dtype=g.dtype)
        for i in range(kh):
            for j in range(kw):
                gp[:, i:i + h, j:j + w] += g.dtype.type(k[i][j]) * g
        return gp[:, ph:ph + h, pw:pw + w]
    return out, transposed


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0),
                  data_format: Optional[str] = None) -> Tensor:
    """Blur images with a Gaussian kernel (``keras.ops.image.gaussian_blur``), each channel
    separately, zero padding ('same' size).

    Args:
        images: a 3-D image or 4-D batch.
        kernel_size: ``(height, width)`` of the kernel.
        sigma: ``(sigma_h, sigma_w)``, the standard deviations.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:

    >>> ops.image.gaussian_blur(np.ones((1, 5, 5, 1)), (3, 3), (1.0, 1.0)).shape
    (1, 5, 5, 1)
    """
    a = data_of(images, "gaussian_blur", "images")
    _rank_check("gaussian_blur", a)
    fmt = _fmt(data_format)
    ks = tuple(int(k) for k in (kernel_size if isinstance(kernel_size, (list, tuple))
                                else (kernel_size, kernel_size)))
    sg = backend.to_numpy(data_of(sigma, "gaussian_blur", "sigma")).astype(np.float32).reshape(-1)
    if sg.size == 1:
        sg = np.repeat(sg, 2)
    kernel = _gaussian_kernel(ks, sg)
    x = _float_tensor(images, a)
    y, backward = _channels_last_batch(x.data, fmt, lambda b: _depthwise_same(b, kernel))
    return record(y, (x,), backward)


def _homography(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The 8 projective parameters mapping each output (end) point to its input (start)
    point, one row per batch entry."""
    n = start.shape[0]
    out = np.zeros((n, 8), dtype=np.float64)
    for b in range(n):
        rows, rhs = [], []
        for (sx, sy), (ex, ey) in zip(start[b], end[b]):
            rows.append([ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey])
            rows.append([0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey])
            rhs += [sx, sy]
        out[b] = np.linalg.solve(np.array(rows, np.float64), np.array(rhs, np.float64))
    return out


def perspective_transform(images, start_points, end_points, interpolation: str = "bilinear",
                          fill_value: float = 0, data_format: Optional[str] = None) -> Tensor:
    """Warp images so that the 4 ``start_points`` land on the 4 ``end_points``
    (``keras.ops.image.perspective_transform``); points are ``(x, y)``, shape ``(4, 2)`` or
    ``(batch, 4, 2)``; outside the input reads ``fill_value``.

    Example:

    >>> pts = np.array([[0, 0], [3, 0], [0, 3], [3, 3]], "float32")
    >>> ops.image.perspective_transform(np.ones((4, 4, 1)), pts, pts).shape
    (4, 4, 1)
    """
    a = data_of(images, "perspective_transform", "images")
    _rank_check("perspective_transform", a)
    _check_option("perspective_transform", "interpolation", interpolation,
                  AFFINE_TRANSFORM_INTERPOLATIONS)
    sp = backend.to_numpy(data_of(start_points, "perspective_transform", "start_points"))
    ep = backend.to_numpy(data_of(end_points, "perspective_transform", "end_points"))
    for name, p in (("start_points", sp), ("end_points", ep)):
        if p.ndim not in (2, 3) or p.shape[-2:] != (4, 2):
            raise ValueError(f"perspective_transform: invalid {name} shape: expected (4, 2) for "
                             f"a single image or (N, 4, 2) for a batch. Received shape: "
                             f"{p.shape}")
    if sp.shape != ep.shape:
        raise ValueError(f"perspective_transform: start_points and end_points must have the "
                         f"same shape. Received start_points.shape={sp.shape}, "
                         f"end_points.shape={ep.shape}")
    sp = sp.reshape(-1, 4, 2).astype(np.float32)
    ep = ep.reshape(-1, 4, 2).astype(np.float32)
    t = _homography(sp, ep).astype(np.float32)
    n = a.shape[0] if a.ndim == 4 else 1
    if t.shape[0] == 1 and n > 1:
        t = np.repeat(t, n, axis=0)
    return affine_transform.__wrapped_op__(images, t if a.ndim == 4 else t[0],
                                           interpolation=interpolation, fill_mode="constant",
                                           fill_value=fill_value, data_format=data_format)


def elastic_transform(images, alpha: float = 20.0, sigma: float = 5.0,
                      interpolation: str = "bilinear", fill_mode: str = "reflect",
                      fill_value: float = 0.0, seed=None,
                      data_format: Optional[str] = None) -> Tensor:
    """Elastic deformation (``keras.ops.image.elastic_transform``): a Gaussian noise field
    (std ``sigma``), blurred with a Gaussian of ``sigma`` (kernel ``6*int(sigma) | 1``) and
    scaled by ``alpha``, displaces where each output pixel reads the input (as in Keras, the
    same field moves x and y).

    Args:
        alpha: the displacement scale.
        sigma: the smoothness of the field.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"constant"``, ``"nearest"``, ``"wrap"`` or
            ``"mirror"``.
        fill_value: the value outside the input for ``"constant"``.
        seed: an int (or a NumPy Generator) for the noise field; None draws a fresh one.

    Example:

    >>> ops.image.elastic_transform(np.ones((8, 8, 3)), seed=0).shape
    (8, 8, 3)
    """
    a = data_of(images, "elastic_transform", "images")
    _rank_check("elastic_transform", a)
    _check_option("elastic_transform", "interpolation", interpolation,
                  AFFINE_TRANSFORM_INTERPOLATIONS)
    _check_option("elastic_transform", "fill_mode", fill_mode, AFFINE_TRANSFORM_FILL_MODES)
    fmt = _fmt(data_format)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    x = _float_tensor(images, a)
    single = x.data.ndim == 3
    xt = _m.expand_dims(x, 0) if single else x  # the layout changes are ops: the tape follows
    if fmt == "channels_first":
        xt = _m.transpose(xt, (0, 2, 3, 1))
    n, h, w, c = xt.data.shape
    s = float(sigma)
    k = (6 * int(s)) | 1
    noise = rng.standard_normal((n, h, w, 1)).astype(np.float32) * np.float32(s)
    field, _ = _depthwise_same(noise, _gaussian_kernel((k, k), (s, s)))
    field = field[..., 0] * np.float32(alpha)
    yy, xx = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32),
                         indexing="ij")
    rows = yy[None] + field
    cols = xx[None] + field
    order = AFFINE_TRANSFORM_INTERPOLATIONS.index(interpolation)
    # one map_coordinates over (batch, row, col, channel): batch and channel coordinates exact
    bi = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None], (n, h, w, c))
    ci = np.broadcast_to(np.arange(c, dtype=np.float32)[None, None, None, :], (n, h, w, c))
    coords = [bi, np.broadcast_to(rows[..., None], (n, h, w, c)),
              np.broadcast_to(cols[..., None], (n, h, w, c)), ci]
    y = map_coordinates.__wrapped_op__(xt, coords, order, fill_mode=fill_mode,
                                       fill_value=fill_value)
    if fmt == "channels_first":
        y = _m.transpose(y, (0, 3, 1, 2))
    return _m.squeeze(y, 0) if single else y



def sobel_edges(images, data_format: Optional[str] = None) -> Tensor:
    """Sobel gradients (``keras.ops.image.sobel_edges``, as ``tf.image.sobel_edges``): the
    image is reflect-padded by one pixel and correlated with the vertical and horizontal Sobel
    kernels; the result has a last axis of 2 (dy, dx): ``(batch, height, width, channels, 2)``
    (``(batch, channels, height, width, 2)`` for channels_first).

    Example:

    >>> ops.image.sobel_edges(np.ones((1, 4, 4, 3))).shape
    (1, 4, 4, 3, 2)
    """
    a = data_of(images, "sobel_edges", "images")
    if a.ndim != 4:
        raise ValueError(f"sobel_edges: expected a 4-D batch of images, got shape "
                         f"{tuple(a.shape)}")
    fmt = _fmt(data_format)
    x = _float_tensor(images, a)
    xa = x.data
    xp = backend.of(xa).xp
    b = xp.moveaxis(xa, 1, -1) if fmt == "channels_first" else xa
    n, h, w, c = b.shape
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64)
    kernels = (ky, ky.T)
    p = xp.pad(b, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    outs = []
    for k in kernels:
        o = xp.zeros(b.shape, dtype=b.dtype)
        for i in range(3):
            for j in range(3):
                if k[i, j]:
                    o += b.dtype.type(k[i, j]) * p[:, i:i + h, j:j + w]
        outs.append(o)
    y = xp.stack(outs, axis=-1)

    def backward(g, _n):
        if fmt == "channels_first":
            g = xp.moveaxis(g, 1, 3)
        gp = xp.zeros(p.shape, dtype=g.dtype)
        for t, k in enumerate(kernels):
            for i in range(3):
                for j in range(3):
                    if k[i, j]:
                        gp[:, i:i + h, j:j + w] += g.dtype.type(k[i, j]) * g[..., t]
        # fold the reflected border back (P[0] = x[1], P[h+1] = x[h-2]; same for columns)
        gp[:, 2] += gp[:, 0]
        gp[:, h - 1] += gp[:, h + 1]
        gp[:, :, 2] += gp[:, :, 0]
        gp[:, :, w - 1] += gp[:, :, w + 1]
        gx = gp[:, 1:h + 1, 1:w + 1]
        return (xp.moveaxis(gx, -1, 1) if fmt == "channels_first" else gx,)
    if fmt == "channels_first":
        y = xp.moveaxis(y, 3, 1)
    return record(xp.ascontiguousarray(y), (x,), backward)


def ssim(image1, image2, max_val: float = 1.0, filter_size: int = 11,
         filter_sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03,
         data_format: Optional[str] = None) -> Tensor:
    """Structural similarity of two images or batches (``keras.ops.image.ssim``): Gaussian
    (``filter_size``, ``filter_sigma``) local means, variances and covariance over each channel
    ('valid' windows), the SSIM map averaged over space and channels. Differentiable.

    Returns:
        One value per image (a scalar for a single image).

    Example:

    >>> x = np.random.rand(2, 16, 16, 3).astype("float32")
    >>> ops.image.ssim(x, x).numpy()
    array([1., 1.], dtype=float32)
    """
    a1 = data_of(image1, "ssim", "image1")
    a2 = data_of(image2, "ssim", "image2")
    for name, a in (("image1", a1), ("image2", a2)):
        if a.ndim not in (3, 4):
            raise ValueError(f"ssim: invalid {name} rank: expected rank 3 (single image) or "
                             f"rank 4 (batch of images). Received input with shape: "
                             f"{name}.shape={tuple(a.shape)}")
    if tuple(a1.shape) != tuple(a2.shape):
        raise ValueError(f"ssim: image1 and image2 must have the same shape, got "
                         f"{tuple(a1.shape)} and {tuple(a2.shape)}")
    from . import nn
    fmt = _fmt(data_format)
    x1 = _m.cast(image1 if isinstance(image1, Tensor) else Tensor(a1), "float32")
    x2 = _m.cast(image2 if isinstance(image2, Tensor) else Tensor(a2), "float32")
    single = a1.ndim == 3
    if single:
        x1, x2 = _m.expand_dims(x1, 0), _m.expand_dims(x2, 0)
    if fmt == "channels_first":
        x1, x2 = _m.transpose(x1, (0, 2, 3, 1)), _m.transpose(x2, (0, 2, 3, 1))
    n, h, w, c = x1.data.shape
    g = np.arange(filter_size, dtype=np.float32) - np.float32((filter_size - 1) / 2.0)
    g = np.exp(-(g ** 2) / np.float32(2.0 * filter_sigma ** 2))
    g = g / g.sum()
    kernel = np.outer(g, g).astype(np.float32).reshape(filter_size, filter_size, 1, 1)

    def per_channel(t):
        return _m.reshape(_m.transpose(t, (0, 3, 1, 2)), (-1, h, w, 1))

    def blur(t):
        return nn.conv(t, kernel, strides=1, padding="valid")
    i1, i2 = per_channel(x1), per_channel(x2)
    mu1, mu2 = blur(i1), blur(i2)
    mu1_sq, mu2_sq, mu12 = _m.multiply(mu1, mu1), _m.multiply(mu2, mu2), _m.multiply(mu1, mu2)
    s1 = _m.subtract(blur(_m.multiply(i1, i1)), mu1_sq)
    s2 = _m.subtract(blur(_m.multiply(i2, i2)), mu2_sq)
    s12 = _m.subtract(blur(_m.multiply(i1, i2)), mu12)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    num = _m.multiply(_m.add(_m.multiply(2.0, mu12), c1), _m.add(_m.multiply(2.0, s12), c2))
    den = _m.multiply(_m.add(_m.add(mu1_sq, mu2_sq), c1), _m.add(_m.add(s1, s2), c2))
    per = _m.mean(_m.divide(num, den), axis=(1, 2, 3))
    out = _m.mean(_m.reshape(per, (n, c)), axis=-1)
    return _m.squeeze(out, 0) if single else out



_ST_METHODS = ("linear", "bilinear", "trilinear", "triangle", "cubic", "bicubic", "tricubic",
               "lanczos3", "lanczos5")


def _st_kernel(method: str, x: np.ndarray) -> np.ndarray:
    if method == "linear":
        return np.maximum(0.0, 1 - np.abs(x))
    if method == "cubic":  # Keys, a = -0.5
        out = ((1.5 * x - 2.5) * x) * x + 1.0
        out = np.where(x >= 1.0, ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0, out)
        return np.where(x >= 2.0, 0.0, out)
    radius = 3.0 if method == "lanczos3" else 5.0
    with np.errstate(invalid="ignore", divide="ignore"):
        y = radius * np.sin(np.pi * x) * np.sin(np.pi * x / radius)
        out = np.where(x > 1e-3, y / np.where(x != 0, np.pi ** 2 * x ** 2, 1), 1.0)
    return np.where(x > radius, 0.0, out)


def _st_weights(n_in: int, n_out: int, scale: float, translation: float, method: str,
                antialias: bool) -> np.ndarray:
    """(n_in, n_out) resampling weights of one axis (``jax.image.scale_and_translate``'s)."""
    inv = 1.0 / scale
    ks = max(inv, 1.0) if antialias else 1.0
    sample = (np.arange(n_out) + 0.5) * inv - translation * inv - 0.5
    w = _st_kernel(method, np.abs(sample[None, :] - np.arange(n_in)[:, None]) / ks)
    total = w.sum(axis=0, keepdims=True)
    w = np.where(np.abs(total) > 1000.0 * float(np.finfo(np.float32).eps),
                 w / np.where(total != 0, total, 1), 0.0)
    inside = (sample >= -0.5) & (sample <= n_in - 0.5)
    return np.where(inside[None, :], w, 0.0)


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method: str,
                        antialias: bool = True) -> Tensor:
    """Resample ``images`` to ``output_shape`` with a scale and translation per spatial
    dimension (``keras.ops.image.scale_and_translate``, as ``jax.image.scale_and_translate``):
    output coordinate ``y`` samples the input at ``(y + 0.5 - translation) / scale - 0.5``.

    Args:
        images: an array of any rank.
        output_shape: the full output shape.
        scale, translation: one value per entry of ``spatial_dims``.
        spatial_dims: the axes to resample.
        method: "linear"/"bilinear"/"trilinear"/"triangle", "cubic"/"bicubic"/"tricubic",
            "lanczos3" or "lanczos5".
        antialias: widen the kernel when downsampling.

    Example:

    >>> ops.image.scale_and_translate(np.ones((4, 4)), (8, 8), (2.0, 2.0), (0.0, 0.0),
    ...                               (0, 1), "linear").shape
    (8, 8)
    """
    a = data_of(images, "scale_and_translate", "images")
    if method not in _ST_METHODS:
        raise ValueError(f"scale_and_translate: invalid value for argument `method`. Expected "
                         f"of one {_ST_METHODS}. Received: method={method}")
    kind = {"bilinear": "linear", "trilinear": "linear", "triangle": "linear",
            "bicubic": "cubic", "tricubic": "cubic"}.get(method, method)
    sc = np.asarray(backend.to_numpy(data_of(scale, "scale_and_translate", "scale")),
                    np.float64).reshape(-1)
    tr = np.asarray(backend.to_numpy(data_of(translation, "scale_and_translate",
                                             "translation")), np.float64).reshape(-1)
    dims = [int(d) % a.ndim for d in spatial_dims]
    if len(sc) != len(dims) or len(tr) != len(dims):
        raise ValueError(f"scale_and_translate: scale and translation need one value per "
                         f"spatial dimension {tuple(spatial_dims)}, got {len(sc)} and {len(tr)}")
    x = _float_tensor(images, a)
    mats = [_st_weights(a.shape[d], int(output_shape[d]), sc[i], tr[i], kind, antialias).T
            for i, d in enumerate(dims)]
    y, dm = _linear_map(x.data, mats, dims)

    def backward(g, _n):
        for mm, ax in reversed(list(zip(dm, dims))):
            g = _apply_along(g, mm.T, ax)
        return (g,)
    if a.dtype.kind in "iu":
        xp = backend.of(y).xp
        r = xp.clip(xp.round(y), a.min(), a.max())
        return Tensor(r.astype(a.dtype))
    return record(y, (x,), backward)


def extract_patches(images, size, strides=None, dilation_rate=1, padding: str = "valid",
                    data_format: Optional[str] = None) -> Tensor:
    """Patches of ``size`` from images, flattened into the channel axis
    (``keras.ops.image.extract_patches``): ``(batch, h', w', size_h * size_w * channels)``.
    ``strides`` defaults to ``size`` (non-overlapping patches); a 3-element ``size`` extracts
    3-D patches from volumes (``extract_patches_3d``).

    Example:

    >>> ops.image.extract_patches(np.ones((2, 8, 8, 3)), 4).shape
    (2, 2, 2, 48)
    """
    if not isinstance(size, int) and len(size) == 3:
        return extract_patches_3d.__wrapped_op__(images, size, strides, dilation_rate, padding,
                                                 data_format)
    from . import nn
    a = data_of(images, "extract_patches", "images")
    _rank_check("extract_patches", a)
    fmt = _fmt(data_format)
    if strides is None:
        strides = size
    x = images if isinstance(images, Tensor) else Tensor(a)
    single = a.ndim == 3
    if single:
        x = _m.expand_dims(x, 0)
    if fmt == "channels_first":
        x = _m.transpose(x, (0, 2, 3, 1))
    y = nn.extract_patches(x, size, strides=strides, dilation_rate=dilation_rate,
                           padding=padding)
    if fmt == "channels_first":
        y = _m.transpose(y, (0, 3, 1, 2))
    return _m.squeeze(y, 0) if single else y


def _out_len(n: int, k: int, s: int, d: int, padding: str):
    eff = (k - 1) * d + 1
    if padding == "valid":
        return max((n - eff) // s + 1, 0), 0
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    return out, total // 2


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding: str = "valid",
                       data_format: Optional[str] = None) -> Tensor:
    """3-D patches of volumes (``keras.ops.image.extract_patches_3d``):
    ``(batch, d, h, w, channels)`` to ``(batch, d', h', w', size_d * size_h * size_w *
    channels)``, patch values ordered (depth, height, width, channel); ``strides`` defaults to
    ``size``; "same" padding as TensorFlow's.

    Example:

    >>> ops.image.extract_patches_3d(np.ones((1, 4, 4, 4, 2)), 2).shape
    (1, 2, 2, 2, 16)
    """
    a = data_of(volumes, "extract_patches_3d", "volumes")
    if a.ndim not in (4, 5):
        raise ValueError(f"extract_patches_3d: expected a 5-D batch of volumes (or one 4-D "
                         f"volume), got shape {tuple(a.shape)}")
    if isinstance(size, int):
        size = (size, size, size)
    if len(size) != 3:
        raise TypeError(f"Invalid `size` argument. Expected an int or a tuple of length 3. "
                        f"Received: size={size}")
    strides = size if strides is None else strides
    strides = (strides,) * 3 if isinstance(strides, int) else tuple(strides)
    if len(strides) != 3:
        raise ValueError(f"Invalid `strides` argument. Got: {strides}")
    dil = (dilation_rate,) * 3 if isinstance(dilation_rate, int) else tuple(dilation_rate)
    if padding not in ("valid", "same"):
        raise ValueError(f"extract_patches_3d: padding must be 'valid' or 'same', got "
                         f"{padding!r}")
    fmt = _fmt(data_format)
    x = volumes if isinstance(volumes, Tensor) else Tensor(a)
    single = a.ndim == 4
    if single:
        x = _m.expand_dims(x, 0)
    if fmt == "channels_first":
        x = _m.transpose(x, (0, 2, 3, 4, 1))
    xa = x.data
    xp = backend.of(xa).xp
    n, c = xa.shape[0], xa.shape[-1]
    outs, pads = zip(*[_out_len(xa.shape[1 + i], size[i], strides[i], dil[i], padding)
                       for i in range(3)])
    pad_after = [max((outs[i] - 1) * strides[i] + (size[i] - 1) * dil[i] + 1 - xa.shape[1 + i]
                     - pads[i], 0) for i in range(3)]
    p = xp.pad(xa, [(0, 0)] + [(pads[i], pad_after[i]) for i in range(3)] + [(0, 0)])
    idx = [xp.asarray(np.arange(outs[i])[:, None] * strides[i] + np.arange(size[i])[None] *
                      dil[i]) for i in range(3)]
    # (n, od, kd, oh, kh, ow, kw, c) -> (n, od, oh, ow, kd, kh, kw, c)
    g = p[:, idx[0][:, :, None, None, None, None], idx[1][None, None, :, :, None, None],
          idx[2][None, None, None, None, :, :]]
    y = xp.ascontiguousarray(g.transpose(0, 1, 3, 5, 2, 4, 6, 7)).reshape(
        n, outs[0], outs[1], outs[2], -1)

    def backward(grad, _n):
        gg = grad.reshape(n, outs[0], outs[1], outs[2], size[0], size[1], size[2], c)
        gg = gg.transpose(0, 1, 4, 2, 5, 3, 6, 7)
        gp = xp.zeros(p.shape, dtype=grad.dtype)
        ii = (slice(None), idx[0][:, :, None, None, None, None],
              idx[1][None, None, :, :, None, None], idx[2][None, None, None, None, :, :])
        if xp is np:
            np.add.at(gp, ii, gg)
        else:
            import cupyx
            cupyx.scatter_add(gp, ii, gg)
        d0, h0, w0 = pads
        return (gp[:, d0:d0 + xa.shape[1], h0:h0 + xa.shape[2], w0:w0 + xa.shape[3]],)
    out = record(y, (x,), backward)
    if fmt == "channels_first":
        out = _m.transpose(out, (0, 4, 1, 2, 3))
    return _m.squeeze(out, 0) if single else out


def _wrap_all() -> None:
    g = globals()
    for name in __all__:
        g[name] = symbolic_dispatch(g[name])


_wrap_all()
