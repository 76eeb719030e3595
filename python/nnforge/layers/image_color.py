"""Colour augmentations with Keras 3's semantics: RandomBrightness, RandomGrayscale,
RandomInvert, Solarization, RandomPosterization, AutoContrast, RandomColorDegeneration,
RandomSaturation, RandomHue, RandomSharpness, Equalization, RandomColorJitter.

``value_range`` is the range of the input pixels (default ``(0, 255)``), as in Keras. Each
layer's ``get_random_transformation`` draws its parameters per image and ``transform_images``
applies given parameters, so a transformation can be fixed and replayed."""
from __future__ import annotations

import numpy as np

from .base_image_preprocessing import (BaseImagePreprocessingLayer, depthwise_same,
                                       hsv_to_rgb, rgb_to_grayscale, rgb_to_hsv)

_EPSILON = 1e-7  # keras.config.epsilon()


class _FactorColorLayer(BaseImagePreprocessingLayer):
    """A colour layer drawing its strength in a ``factor`` range, for pixels in
    ``value_range``, from its own ``seed``: the arguments and config most of this module's
    layers share (``factor``, ``value_range`` and ``seed`` are saved with the base config).

    Args:
        factor: a number or a ``(lower, upper)`` pair, within the class's ``_FACTOR_BOUNDS``.
        value_range: the range of the input pixels (checked and sorted, unless the class keeps
            it as given, as Keras's RandomHue and RandomInvert do).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: integer seed.
    """

    _USE_BASE_FACTOR = False  # the factor is set here, with the class's bounds
    _CHECK_VALUE_RANGE = True

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        if self._CHECK_VALUE_RANGE:
            self._set_value_range(value_range)
        else:
            self.value_range = value_range
        self._make_rng(seed)

    def _clip(self, images):
        """``images`` clipped to ``value_range``."""
        return np.clip(images, self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range,
                       "seed": self.seed})
        return config


class RandomBrightness(_FactorColorLayer):
    """Adds a random delta ``uniform(factor) * (value_range[1] - value_range[0])`` to each
    image, then clips to ``value_range`` (``keras.layers.RandomBrightness``).

    Args:
        factor: a float in [-1, 1] (the range ``(-|f|, |f|)``) or a ``(lower, upper)`` pair.
        value_range: the range of the input pixels.
        seed: integer seed.

    Example:

    >>> RandomBrightness(factor=(0.1, 0.1), value_range=(0, 1))(np.zeros((2, 2, 3))).numpy()[0, 0]
    array([0.1, 0.1, 0.1], dtype=float32)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        # as Keras's base layer: a factor of 0 (or None) is the range (0, 0.0)
        super().__init__(factor or 0.0, value_range, seed=seed, **kwargs)

    def get_random_transformation(self, images, training=True, seed=None):
        n = images.shape[0]
        if not training:
            return {"rgb_delta": np.zeros((n, 1, 1, 1), np.float32)}
        delta = self._rng.uniform(self.factor[0], self.factor[1], (n, 1, 1, 1))
        return {"rgb_delta": (delta * (self.value_range[1] - self.value_range[0]))
                .astype(np.float32)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        return self._clip(images + np.asarray(transformation["rgb_delta"], np.float32))


class RandomGrayscale(BaseImagePreprocessingLayer):
    """Turns each image to grayscale (kept with 3 channels) with probability ``factor``
    (``keras.layers.RandomGrayscale``).

    Example:

    >>> out = RandomGrayscale(factor=1.0)(np.random.rand(2, 4, 4, 3))
    >>> bool(np.allclose(out.numpy()[..., 0], out.numpy()[..., 1]))
    True
    """

    _USE_BASE_FACTOR = False

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if factor < 0 or factor > 1:
            raise ValueError(f"RandomGrayscale '{self.name}': `factor` should be between 0 and "
                             f"1. Received: factor={factor}")
        self.factor = factor
        self._make_rng(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        return (self._rng.uniform(0, 1, images.shape[0]) < self.factor)[:, None, None, None]

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        return np.where(transformation, rgb_to_grayscale(images), images)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomInvert(_FactorColorLayer):
    """Replaces an image ``x`` by ``value_range[1] - x`` with a probability drawn in
    ``factor`` (``keras.layers.RandomInvert``; the default ``factor=1.0`` inverts each image
    with probability 1/2 on average, ``(1.0, 1.0)`` always).

    Example:

    >>> RandomInvert(factor=(1.0, 1.0), value_range=(0, 1))(np.zeros((1, 1, 3))).numpy()
    array([[[1., 1., 1.]]], dtype=float32)
    """

    _FACTOR_BOUNDS = (0, 1)
    _CHECK_VALUE_RANGE = False

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):
        super().__init__(factor, value_range, data_format, seed, **kwargs)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training:
            return None
        n = images.shape[0]
        prob = self._rng.uniform(self.factor[0], self.factor[1], n)
        return {"apply_inversion": self._rng.uniform(0, 1, n) < prob}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        apply = np.asarray(transformation["apply_inversion"])[:, None, None, None]
        return np.where(apply, np.float32(self.value_range[1]) - images, images)


class Solarization(BaseImagePreprocessingLayer):
    """Adds ``addition`` to the pixels (in a 0..255 scale), clips, and inverts those at or
    above ``threshold`` (``keras.layers.Solarization``). As in Keras, the addition is drawn in
    ``[addition_factor[0], addition_factor[1] * 255]`` and the threshold likewise.

    Example:

    >>> Solarization(value_range=(0, 1))(np.full((1, 1, 3), 0.25)).numpy()
    array([[[0.75, 0.75, 0.75]]], dtype=float32)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self._make_rng(seed)
        self.addition_factor = self._factor_pair(addition_factor, "addition_factor")
        self.threshold_factor = self._factor_pair(threshold_factor, "threshold_factor")
        self._set_value_range(value_range)

    def _factor_pair(self, factor, name):
        msg = (f"Solarization '{self.name}': the `addition_factor` and `threshold_factor` "
               f"arguments should be a number (or a list of two numbers) in the range [0, 1]. "
               f"Received: {name}={factor}")
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or any(f > 1.0 or f < 0 for f in factor):
                raise ValueError(msg)
            return tuple(sorted(factor))
        if isinstance(factor, (int, float)):
            if factor > 1.0 or factor < 0:
                raise ValueError(msg)
            return (0, factor)
        raise ValueError(msg)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training:
            return None
        shape = (images.shape[0], 1, 1, 1)
        a, t = self.addition_factor, self.threshold_factor
        return {"additions": self._rng.uniform(a[0], a[1] * 255, shape).astype(np.float32),
                "thresholds": self._rng.uniform(t[0], t[1] * 255, shape).astype(np.float32)}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        x = self._transform_value_range(images, self.value_range, (0, 255))
        x = np.clip(x + np.asarray(transformation["additions"], np.float32), 0, 255)
        x = np.where(x < np.asarray(transformation["thresholds"], np.float32), x, 255 - x)
        return self._transform_value_range(x, (0, 255), self.value_range)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "addition_factor": self.addition_factor,
                       "threshold_factor": self.threshold_factor, "seed": self.seed})
        return config


class RandomPosterization(_FactorColorLayer):
    """Keeps the ``bits`` most significant bits of each 8-bit pixel, ``bits`` drawn in
    ``[1, factor)`` (or exactly ``factor[0]`` when both ends are equal)
    (``keras.layers.RandomPosterization``).

    Example:

    >>> RandomPosterization(factor=(1, 1))(np.full((1, 1, 3), 200.0)).numpy()
    array([[[128., 128., 128.]]], dtype=float32)
    """

    _FACTOR_BOUNDS = (1, 8)
    _MAX_FACTOR = 8

    def get_random_transformation(self, images, training=True, seed=None):
        n = images.shape[0]
        lo, hi = int(self.factor[0]), int(self.factor[1])
        bits = self._rng.integers(lo, hi, n) if lo != hi else np.full(n, lo)
        return {"shift_factor": (self._MAX_FACTOR - bits).astype(np.uint8)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        shift = np.asarray(transformation["shift_factor"], np.uint8)[:, None, None, None]
        x = self._transform_value_range(images, self.value_range, (0, 255))
        x = np.clip(np.trunc(x), 0, 255).astype(np.uint8)
        x = np.left_shift(np.right_shift(x, shift), shift).astype(np.float32)
        return self._transform_value_range(x, (0, 255), self.value_range)


class AutoContrast(BaseImagePreprocessingLayer):
    """Stretches each image channel to the full ``value_range`` (``keras.layers.AutoContrast``;
    deterministic, applied in training and inference alike, as in Keras).

    Example:

    >>> AutoContrast(value_range=(0, 1))(np.array([[[0.2], [0.4]]] * 1)).numpy().ravel()
    array([0., 1.], dtype=float32)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self._set_value_range(value_range)

    def transform_images(self, images, transformation=None, training=True):
        x = self._transform_value_range(images, self.value_range, (0, 255))
        low = x.min(axis=(1, 2), keepdims=True)
        high = x.max(axis=(1, 2), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.float32(255.0) / (high - low)
            out = np.clip(x * scale + (-low * scale), 0.0, 255.0)
        out = self._transform_value_range(out, (0, 255), self.value_range)
        return np.where(np.isnan(out), images, out)

    def get_config(self):
        config = super().get_config()
        config["value_range"] = self.value_range
        return config


class RandomColorDegeneration(_FactorColorLayer):
    """Blends each image toward its grayscale version by a random factor
    (``keras.layers.RandomColorDegeneration``): ``x + f * (gray(x) - x)``, clipped.

    Example:

    >>> x = np.random.rand(1, 2, 2, 3).astype("float32")
    >>> RandomColorDegeneration((1.0, 1.0), value_range=(0, 1))(x).shape
    (1, 2, 2, 3)
    """

    def get_random_transformation(self, images, training=True, seed=None):
        n = images.shape[0]
        return {"factor": self._rng.uniform(self.factor[0], self.factor[1], (n, 1, 1, 1))
                .astype(np.float32)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        f = np.asarray(transformation["factor"], np.float32)
        return self._clip(images + f * (rgb_to_grayscale(images) - images))

    def compute_output_shape(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(f"RandomColorDegeneration '{self.name}': invalid images rank: "
                             f"expected rank 3 (single image) or rank 4 (batch of images). "
                             f"Received: input_shape={input_shape}")
        ch = input_shape[-1] if self.data_format == "channels_last" else input_shape[-3]
        if ch is not None and ch != 3:
            raise ValueError(f"RandomColorDegeneration '{self.name}': input images must have 3 "
                             f"channels, but received images with {ch} channels.")
        return input_shape


class RandomSaturation(_FactorColorLayer):
    """Scales the HSV saturation by ``f / (1 - f)`` for ``f`` drawn in ``factor``
    (``keras.layers.RandomSaturation``; 0.5 keeps the image, 0 gives grayscale, values near 1
    saturate). As in Keras, the image is converted to HSV as given and the saturation is
    clipped to ``value_range``.

    Example:

    >>> x = np.random.rand(1, 2, 2, 3).astype("float32")
    >>> np.allclose(RandomSaturation((0.5, 0.5))(x).numpy(), x, atol=1e-5)
    True
    """

    def get_random_transformation(self, images, training=True, seed=None):
        f = self._rng.uniform(self.factor[0], self.factor[1], images.shape[0])
        return {"factor": (f / (1 - f + _EPSILON)).astype(np.float32)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        f = np.asarray(transformation["factor"], np.float32)[:, None, None]
        hsv = rgb_to_hsv(images)
        s = np.clip(hsv[..., 1] * f, self.value_range[0], self.value_range[1])
        return hsv_to_rgb(np.stack([hsv[..., 0], s, hsv[..., 2]], axis=-1))


class RandomHue(_FactorColorLayer):
    """Rotates the hue by ``+-f / 2`` (sign and ``f`` in ``factor`` drawn per image)
    (``keras.layers.RandomHue``); pixels are mapped from ``value_range`` to [0, 1] and back.

    Example:

    >>> x = np.random.rand(1, 2, 2, 3).astype("float32") * 255
    >>> np.allclose(RandomHue((0.0, 0.0))(x).numpy(), x, atol=1e-3)
    True
    """

    _FACTOR_BOUNDS = (0, 1)
    _CHECK_VALUE_RANGE = False

    def get_random_transformation(self, images, training=True, seed=None):
        n = images.shape[0]
        sign = np.where(self._rng.uniform(0, 1, n) > 0.5, -1.0, 1.0)
        f = self._rng.uniform(self.factor[0], self.factor[1], n)
        return {"factor": (sign * f * 0.5).astype(np.float32)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        x = self._transform_value_range(images, self.value_range, (0, 1))
        f = np.asarray(transformation["factor"], np.float32)[:, None, None]
        hsv = rgb_to_hsv(x)
        h = hsv[..., 0] + f
        h = np.where(h > 1.0, h - 1.0, h)
        h = np.where(h < 0.0, h + 1.0, h)
        rgb = np.clip(hsv_to_rgb(np.stack([h, hsv[..., 1], hsv[..., 2]], axis=-1)), 0, 1)
        return self._transform_value_range(rgb, (0, 1), self.value_range)


class RandomSharpness(_FactorColorLayer):
    """Blends each image with a smoothed copy: ``x + (1 - 2f) * (smooth(x) - x)``, ``f`` drawn
    in ``factor`` (``keras.layers.RandomSharpness``; f = 0.5 keeps the image, larger values
    sharpen, smaller blur).

    Example:

    >>> x = np.random.rand(1, 4, 4, 3).astype("float32")
    >>> np.allclose(RandomSharpness((0.5, 0.5), value_range=(0, 1))(x).numpy(), x)
    True
    """

    _FACTOR_BOUNDS = (0, 1)

    def get_random_transformation(self, images, training=True, seed=None):
        return {"factor": self._rng.uniform(self.factor[0], self.factor[1], images.shape[0])
                .astype(np.float32)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        s = (np.asarray(transformation["factor"], np.float32) * 2).reshape(-1, 1, 1, 1)
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = np.array([[a, a, a], [a, b, a], [a, a, a]], np.float32)
        smoothed = depthwise_same(images, kernel)
        return self._clip(images + (1.0 - s) * (smoothed - images))


class Equalization(BaseImagePreprocessingLayer):
    """Histogram equalization per channel with ``bins`` bins (``keras.layers.Equalization``;
    as in Keras, the histogram of a channel is taken over the whole batch).

    Example:

    >>> Equalization()(np.array([[[0.0], [10.0], [10.0], [200.0]]])).numpy().ravel()
    array([  0., 170., 170., 255.], dtype=float32)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), bins: int = 256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self._set_value_range(value_range)

    def _scale(self, values, src, dst):
        scale = (dst[1] - dst[0]) / (src[1] - src[0])
        return values * np.float32(scale) + np.float32(dst[0] - src[0] * scale)

    def _equalize(self, channel):
        vr = self.value_range
        channel = self._scale(channel, vr, (0, 255))
        scaled = channel.astype(np.float32) * np.float32(self.bins - 1) / np.float32(255)
        idx = np.clip(np.trunc(scaled).astype(np.int64), 0, self.bins - 1)
        hist = np.bincount(idx.reshape(-1), minlength=self.bins)
        if np.count_nonzero(hist) <= 1:
            out = channel
        else:
            cdf = np.cumsum(hist)
            cdf_min = cdf[np.nonzero(cdf)[0][0]]
            denom = cdf[-1] - cdf_min
            denom = 1 if denom == 0 else denom
            lut = np.clip(np.round((cdf - cdf_min) * 255 / denom), 0, 255)
            take = np.clip((channel / np.float32(255.0)) * np.float32(self.bins - 1), 0,
                           self.bins - 1).astype(np.int64)
            out = lut[take].astype(np.float32)
        return self._scale(out, (0, 255), vr)

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        return np.stack([self._equalize(images[..., i]) for i in range(images.shape[-1])],
                        axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"bins": self.bins, "value_range": self.value_range})
        return config


class RandomColorJitter(BaseImagePreprocessingLayer):
    """Random brightness, contrast, saturation and hue, in that order, each with its own
    factor (``keras.layers.RandomColorJitter``); a factor left None skips that step.

    Example:

    >>> x = np.random.rand(2, 4, 4, 3).astype("float32") * 255
    >>> RandomColorJitter(brightness_factor=0.2, hue_factor=0.1)(x).shape
    (2, 4, 4, 3)
    """

    _USE_BASE_FACTOR = False

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self._make_rng(seed)
        self._brightness = None if brightness_factor is None else RandomBrightness(
            brightness_factor, value_range=value_range, seed=seed)
        self._contrast = None
        if contrast_factor is not None:
            self._contrast = _Contrast(contrast_factor, value_range=value_range)
        self._saturation = None if saturation_factor is None else RandomSaturation(
            saturation_factor, value_range=value_range, seed=seed)
        self._hue = None if hue_factor is None else RandomHue(
            hue_factor, value_range=value_range, seed=seed)
        for sub in (self._brightness, self._contrast, self._saturation, self._hue):
            if sub is not None:
                sub._rng = self._rng  # one stream, as Keras draws from the layer's generator

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        for sub in (self._brightness, self._contrast, self._saturation, self._hue):
            if sub is not None:
                images = sub.transform_images(images, sub.get_random_transformation(images))
        return images

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range,
                       "brightness_factor": self.brightness_factor,
                       "contrast_factor": self.contrast_factor,
                       "saturation_factor": self.saturation_factor,
                       "hue_factor": self.hue_factor, "seed": self.seed})
        return config


class _Contrast(BaseImagePreprocessingLayer):
    """Keras 3's RandomContrast step (factor in [0, 1], contrast ``uniform(1 - f0, 1 + f1)``
    about each channel's mean, clipped to ``value_range``), used by RandomColorJitter."""

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), **kwargs):
        super().__init__(factor=factor, **kwargs)
        self.value_range = value_range
        self._make_rng(None)

    def get_random_transformation(self, images, training=True, seed=None):
        n = images.shape[0]
        return {"contrast_factor": self._rng.uniform(1.0 - self.factor[0], 1.0 + self.factor[1],
                                                     (n, 1, 1, 1)).astype(np.float32)}

    def transform_images(self, images, transformation, training=True):
        if not training:
            return images
        f = np.asarray(transformation["contrast_factor"], np.float32)
        mean = images.mean(axis=(1, 2), keepdims=True)
        out = (images - mean) * f + mean
        return np.clip(out, self.value_range[0], self.value_range[1])
