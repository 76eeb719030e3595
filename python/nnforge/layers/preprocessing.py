"""Preprocessing and augmentation layers. Rescaling and Normalization always apply; the random
augmentations apply only when ``training=True`` (identity at inference), drawing from
``nnforge.random_state`` (or their own ``seed``). Augmentations transform the input array on the
host and pass no gradient to it (they sit in front of the trainable layers, as in Keras)."""
from __future__ import annotations

import numpy as np

from nnforge import backend, ops, random_state
from nnforge.core.tensor import Tensor

from .layer import Layer


def _host(x) -> np.ndarray:
    return backend.to_numpy(x.data if isinstance(x, Tensor) else
                            (x if backend.is_array(x) else np.asarray(x)))


def _to_device(a: np.ndarray, like) -> Tensor:
    data = like.data if isinstance(like, Tensor) else like
    return Tensor(backend.of(data).asarray(a) if backend.is_array(data) else a)


def _factor_range(factor, name, layer, symmetric=True):
    if isinstance(factor, (int, float)):
        if factor < 0:
            raise ValueError(f"{layer}: {name} must be >= 0, got {factor}")
        return (-float(factor), float(factor)) if symmetric else (1 - factor, 1 + factor)
    lo, hi = (float(v) for v in factor)
    if lo > hi:
        raise ValueError(f"{layer}: {name} lower bound {lo} exceeds upper bound {hi}")
    return (lo, hi)


class Rescaling(Layer):
    """``inputs * scale + offset`` (e.g. ``Rescaling(1/255)``)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def call(self, inputs):
        return ops.add(ops.multiply(ops.cast(inputs, "float32"), self.scale), self.offset)

    def compute_output_shape(self, s):
        return tuple(s)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


class Normalization(Layer):
    """``(inputs - mean) / sqrt(variance)`` per feature along ``axis`` (``keras.layers.
    Normalization``); ``invert=True`` undoes it.

    With ``mean`` and ``variance`` given they are fixed (and kept in the config). Otherwise the
    layer owns non-trainable weights ``mean`` (zeros), ``variance`` (ones) and ``count``, as
    Keras's does: un-adapted it passes its input through, ``adapt(data)`` sets them, and saving
    keeps them with the other weights (the config holds ``mean=None``).

    Args:
        axis: the feature axis (an int, or None for one scalar mean and variance).
        mean, variance: fixed statistics, or None (then ``adapt``).
        invert: apply the inverse transformation.

    Example:

    >>> norm = Normalization()
    >>> norm.adapt(np.array([[0.0], [2.0]]))
    >>> norm(np.array([[2.0]])).numpy()
    array([[1.]], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(f"Normalization '{self.name}': nnforge supports one feature "
                                 f"axis (or None), got axis={axis!r}")
            axis = axis[0]
        self.axis = axis
        self.invert = invert
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization '{self.name}': pass both mean and variance, or "
                             "neither (then call adapt)")
        self.input_mean = None if mean is None else np.asarray(mean, np.float32)
        self.input_variance = None if variance is None else np.asarray(variance, np.float32)
        self.adapt_mean = self.adapt_variance = self.count = None

    @property
    def mean(self):
        """The mean in use: the given one, else the (adapted) weight."""
        if self.input_mean is not None:
            return self.input_mean
        return None if self.adapt_mean is None else ops.convert_to_numpy(self.adapt_mean)

    @property
    def variance(self):
        """The variance in use: the given one, else the (adapted) weight."""
        if self.input_variance is not None:
            return self.input_variance
        return None if self.adapt_variance is None else ops.convert_to_numpy(self.adapt_variance)

    def _stat_shape(self, input_shape) -> tuple:
        if self.axis is None:
            return ()
        nd = len(input_shape)
        if not -nd <= self.axis < nd:
            raise ValueError(f"Normalization '{self.name}': axis {self.axis} is out of range "
                             f"for inputs of shape {tuple(input_shape)}")
        dim = input_shape[self.axis % nd]
        if dim is None:
            raise ValueError(f"Normalization '{self.name}': the axis to keep must have a known "
                             f"size, got inputs of shape {tuple(input_shape)}, axis={self.axis}")
        return (int(dim),)

    def build(self, input_shape) -> None:
        if self.input_mean is None and self.adapt_mean is None:
            shape = self._stat_shape(input_shape)
            self.adapt_mean = self.add_weight(name="mean", shape=shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64",
                                         initializer="zeros", trainable=False)
        self.built = True

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Compute mean and variance of ``data`` along every axis except ``axis``."""
        a = _host(data).astype(np.float64)
        if a.ndim < 1 or a.shape[0] == 0:
            raise ValueError(f"Normalization '{self.name}': adapt needs non-empty data, got "
                             f"shape {a.shape}")
        if self.input_mean is not None:
            raise ValueError(f"Normalization '{self.name}': mean and variance were given; "
                             "adapt does not apply")
        if not self.built:
            self.build(a.shape)
        ax = self.axis % a.ndim if self.axis is not None else None
        axes = tuple(i for i in range(a.ndim) if i != ax) if ax is not None else None
        self.adapt_mean.assign(a.mean(axis=axes).astype(np.float32).reshape(self.adapt_mean.shape))
        self.adapt_variance.assign(
            a.var(axis=axes).astype(np.float32).reshape(self.adapt_variance.shape))

    def _bshape(self, ndim, mean):
        if self.axis is None or mean.ndim == 0:
            return ()
        shape = [1] * ndim
        shape[self.axis % ndim] = -1
        return tuple(shape)

    def call(self, inputs):
        mean, variance = self.mean, self.variance
        nd = len(inputs.shape)
        shape = self._bshape(nd, mean)
        mean = mean.reshape(shape) if shape else mean
        std = np.sqrt(np.maximum(variance, 1e-7))
        std = std.reshape(shape) if shape else std
        x = ops.cast(inputs, "float32")
        if self.invert:
            return ops.add(ops.multiply(x, std), mean)
        return ops.divide(ops.subtract(x, mean), std)

    def compute_output_shape(self, s):
        return tuple(s)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "invert": self.invert,
                       "mean": None if self.input_mean is None else self.input_mean.tolist(),
                       "variance": None if self.input_variance is None
                       else self.input_variance.tolist()})
        return config


class _RandomImageLayer(Layer):
    """Base of the augmentations: NHWC (or HWC) images, active only when training."""

    def __init__(self, seed=None, **kwargs):
        kwargs.pop("value_range", None)
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = random_state.make_rng(seed)

    def compute_output_shape(self, s):
        return tuple(s)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        a = _host(inputs)
        single = a.ndim == 3
        if single:
            a = a[None]
        if a.ndim != 4:
            raise ValueError(f"{type(self).__name__} '{self.name}': expected images of shape "
                             f"(batch, height, width, channels), got {a.shape}")
        out = self._augment(a.astype(np.float32, copy=False))
        return _to_device(out[0] if single else out, inputs)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


_FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _fold(idx: np.ndarray, size: int, mode: str) -> np.ndarray:
    """Map out-of-range indices into [0, size) as Keras's fill modes do (constant: -1)."""
    if mode == "nearest":
        return np.clip(idx, 0, size - 1)
    if mode == "wrap":
        return np.mod(idx, size)
    if mode == "reflect":  # d c b a | a b c d | d c b a
        period = 2 * size
        r = np.mod(idx, period)
        return np.where(r < size, r, period - 1 - r)
    return np.where((idx >= 0) & (idx < size), idx, -1)


def _warp(images: np.ndarray, matrices: np.ndarray, fill_mode: str = "reflect",
          fill_value: float = 0.0) -> np.ndarray:
    """Nearest-neighbour inverse warp: output pixel (r, c) reads input at M @ (r, c, 1)."""
    n, h, w, _ = images.shape
    rr, cc = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    coords = np.stack([rr.ravel(), cc.ravel(), np.ones(h * w)])
    out = np.empty_like(images)
    for i in range(n):
        src = matrices[i] @ coords
        sr = _fold(np.rint(src[0]).astype(np.int64), h, fill_mode)
        sc = _fold(np.rint(src[1]).astype(np.int64), w, fill_mode)
        ok = (sr >= 0) & (sc >= 0)
        flat = np.full((h * w, images.shape[3]), fill_value, dtype=images.dtype)
        flat[ok] = images[i, sr[ok], sc[ok]]
        out[i] = flat.reshape(h, w, -1)
    return out


def _check_fill(layer, fill_mode, interpolation):
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"{type(layer).__name__} '{layer.name}': fill_mode must be one of "
                         f"{_FILL_MODES}, got {fill_mode!r}")
    if interpolation != "nearest":
        raise ValueError(f"{type(layer).__name__} '{layer.name}': only interpolation='nearest' "
                         f"is supported, got {interpolation!r}")
    return fill_mode


class RandomFlip(_RandomImageLayer):
    """Flips images horizontally and/or vertically, each with probability 1/2."""

    def __init__(self, mode: str = "horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(f"RandomFlip '{self.name}': invalid mode {mode!r}")
        self.mode = mode

    def _augment(self, a):
        out = a.copy()
        n = len(a)
        if "horizontal" in self.mode:
            flip = self._rng.random(n) < 0.5
            out[flip] = out[flip, :, ::-1]
        if "vertical" in self.mode:
            flip = self._rng.random(n) < 0.5
            out[flip] = out[flip, ::-1]
        return out

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _RandomWarpLayer(_RandomImageLayer):
    """Base of the affine augmentations (translation, rotation, zoom): ``_matrices`` draws one
    2x3 inverse-warp matrix per image, applied with ``fill_mode`` and ``fill_value``; the
    config holds the ``_FACTOR_KEYS`` attributes, then the fill arguments."""

    _FACTOR_KEYS: tuple = ()

    def _set_fill(self, fill_mode, interpolation, fill_value) -> None:
        self.fill_mode = _check_fill(self, fill_mode, interpolation)
        self.fill_value = fill_value

    def _matrices(self, n: int, h: int, w: int) -> np.ndarray:
        """(n, 2, 3) matrices: output pixel (r, c) of image i reads its input at
        ``m[i] @ (r, c, 1)`` (override)."""
        raise NotImplementedError

    def _augment(self, a):
        n, h, w, _ = a.shape
        return _warp(a, self._matrices(n, h, w), self.fill_mode, self.fill_value)

    def get_config(self):
        config = super().get_config()
        config.update({k: getattr(self, k) for k in self._FACTOR_KEYS})
        config.update({"fill_mode": self.fill_mode, "fill_value": self.fill_value})
        return config


class RandomTranslation(_RandomWarpLayer):
    """Shifts images by a random fraction of their height and width (zeros fill the rest)."""

    _FACTOR_KEYS = ("height_factor", "width_factor")

    def __init__(self, height_factor, width_factor, fill_mode: str = "reflect",
                 interpolation: str = "nearest", seed=None, fill_value: float = 0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _factor_range(height_factor, "height_factor", self.name)
        self._w = _factor_range(width_factor, "width_factor", self.name)
        self._set_fill(fill_mode, interpolation, fill_value)

    def _matrices(self, n, h, w):
        dy = self._rng.uniform(*self._h, n) * h
        dx = self._rng.uniform(*self._w, n) * w
        m = np.zeros((n, 2, 3))
        m[:, 0, 0] = m[:, 1, 1] = 1
        m[:, 0, 2], m[:, 1, 2] = -dy, -dx
        return m


class RandomRotation(_RandomWarpLayer):
    """Rotates images by a random angle, ``factor`` as a fraction of 2*pi."""

    _FACTOR_KEYS = ("factor",)

    def __init__(self, factor, fill_mode: str = "reflect", interpolation: str = "nearest",
                 seed=None, fill_value: float = 0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        self._range = _factor_range(factor, "factor", self.name)
        self._set_fill(fill_mode, interpolation, fill_value)

    def _matrices(self, n, h, w):
        theta = self._rng.uniform(*self._range, n) * 2 * np.pi
        cy, cx = (h - 1) / 2, (w - 1) / 2
        cos, sin = np.cos(theta), np.sin(theta)
        m = np.zeros((n, 2, 3))
        m[:, 0, 0], m[:, 0, 1] = cos, -sin
        m[:, 1, 0], m[:, 1, 1] = sin, cos
        m[:, 0, 2] = cy - cos * cy + sin * cx
        m[:, 1, 2] = cx - sin * cy - cos * cx
        return m


class RandomZoom(_RandomWarpLayer):
    """Zooms in or out by a random factor: ``height_factor`` -0.2 means up to 20% zoom-in
    (Keras's sign convention); ``width_factor`` None keeps the aspect ratio."""

    _FACTOR_KEYS = ("height_factor", "width_factor")

    def __init__(self, height_factor, width_factor=None, fill_mode: str = "reflect",
                 interpolation: str = "nearest", seed=None, fill_value: float = 0.0, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _factor_range(height_factor, "height_factor", self.name)
        self._w = None if width_factor is None else _factor_range(width_factor, "width_factor",
                                                                  self.name)
        self._set_fill(fill_mode, interpolation, fill_value)

    def _matrices(self, n, h, w):
        zh = 1 + self._rng.uniform(*self._h, n)
        zw = zh if self._w is None else 1 + self._rng.uniform(*self._w, n)
        cy, cx = (h - 1) / 2, (w - 1) / 2
        m = np.zeros((n, 2, 3))
        m[:, 0, 0], m[:, 1, 1] = zh, zw
        m[:, 0, 2], m[:, 1, 2] = cy - zh * cy, cx - zw * cx
        return m


class RandomCrop(Layer):
    """Crops a random (height, width) window in training, the central one at inference."""

    def __init__(self, height: int, width: int, seed=None, **kwargs):
        super().__init__(**kwargs)
        if height < 1 or width < 1:
            raise ValueError(f"RandomCrop '{self.name}': height and width must be >= 1")
        self.height, self.width, self.seed = int(height), int(width), seed
        self._rng = random_state.make_rng(seed)

    def compute_output_shape(self, s):
        return tuple(s[:-3]) + (self.height, self.width, s[-1])

    def call(self, inputs, training=None):
        a = _host(inputs)
        single = a.ndim == 3
        if single:
            a = a[None]
        n, h, w, _ = a.shape
        if h < self.height or w < self.width:
            raise ValueError(f"RandomCrop '{self.name}': images of {h}x{w} are smaller than the "
                             f"crop {self.height}x{self.width}")
        if training:
            top = self._rng.integers(0, h - self.height + 1, n)
            left = self._rng.integers(0, w - self.width + 1, n)
        else:
            top = np.full(n, (h - self.height) // 2)
            left = np.full(n, (w - self.width) // 2)
        out = np.stack([a[i, t:t + self.height, l:l + self.width]
                        for i, (t, l) in enumerate(zip(top, left))]) if n else \
            a[:, :self.height, :self.width]
        return _to_device(out[0] if single else out, inputs)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width, "seed": self.seed})
        return config


class RandomContrast(_RandomImageLayer):
    """Scales each image's deviation from its per-channel mean by a random factor in
    [1 - factor, 1 + factor]."""

    def __init__(self, factor, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor
        lo, hi = _factor_range(factor, "factor", self.name, symmetric=False)
        self._range = (max(lo, 0.0), hi)

    def _augment(self, a):
        f = self._rng.uniform(*self._range, len(a)).astype(np.float32)[:, None, None, None]
        mean = a.mean(axis=(1, 2), keepdims=True)
        return (a - mean) * f + mean

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config
