"""Geometric and blur augmentations with Keras 3's semantics: RandomShear, RandomPerspective,
RandomElasticTransform, RandomGaussianBlur (built on ``ops.image``)."""
from __future__ import annotations

import numpy as np

from nnforge import ops

from .base_image_preprocessing import BaseImagePreprocessingLayer


def _unit_pair(layer, factor, name, symmetric: bool):
    """A factor in [0, 1] (or a pair): ``(-f, f)`` when symmetric, else ``(0, f)``."""
    msg = (f"{type(layer).__name__} '{layer.name}': the `{name}` argument should be a number "
           f"(or a list of two numbers) in the range [0, 1]. Received: {name}={factor}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(msg)
        # (Keras refuses negative ends here, so its own configs, which hold (-f, f), do not
        # load back; nnforge accepts [-1, 1] so that they do)
        if symmetric and any(f > 1.0 or f < -1.0 for f in factor):
            raise ValueError(msg)
        if not symmetric and (factor[0] > 1 or factor[1] < 0):
            raise ValueError(msg)
        return tuple(sorted(factor))
    if isinstance(factor, (int, float)):
        if factor < 0 or factor > 1:
            raise ValueError(msg)
        factor = abs(factor)
        return (-factor, factor) if symmetric else (max(-factor, 0), factor)
    raise ValueError(msg)


def _check_supported(layer, name: str, value, supported) -> None:
    """Raises NotImplementedError (as Keras does) when ``value`` of the argument ``name`` is
    not one of ``supported``."""
    if value not in supported:
        raise NotImplementedError(f"{type(layer).__name__} '{layer.name}': unknown `{name}` "
                                  f"{value}. Expected of one {supported}.")


class _ProbabilityMixin:
    """Layers that transform each image with a probability drawn in ``factor``."""

    def _apply_mask(self, n):
        prob = self._rng.uniform(self.factor[0], self.factor[1], n)
        return self._rng.uniform(0, 1, n) < prob

    @staticmethod
    def _where_applied(mask, out, images):
        """``out`` for the images ``mask`` (one bool per image) selects, else ``images``."""
        return np.where(np.asarray(mask)[:, None, None, None], out, images)


class RandomShear(BaseImagePreprocessingLayer):
    """Shears images by random factors along x and y (``keras.layers.RandomShear``): output
    pixel (x, y) reads the input at ``(x + s_x y, s_y x + y)``; one random sign flips both.

    Args:
        x_factor, y_factor: a float in [0, 1] (range ``(-f, f)``) or a pair.
        interpolation: "bilinear" (default) or "nearest".
        fill_mode: "reflect" (default), "wrap", "constant" or "nearest".
        fill_value: the value outside the input for "constant".
        seed: integer seed.

    Example:

    >>> RandomShear(x_factor=0.3)(np.random.rand(2, 8, 8, 3)).shape
    (2, 8, 8, 3)
    """

    _USE_BASE_FACTOR = False
    _SUPPORTED_FILL_MODE = ("reflect", "wrap", "constant", "nearest")
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, data_format=None,
                 seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.x_factor = _unit_pair(self, x_factor, "x_factor", True)
        self.y_factor = _unit_pair(self, y_factor, "y_factor", True)
        _check_supported(self, "fill_mode", fill_mode, self._SUPPORTED_FILL_MODE)
        _check_supported(self, "interpolation", interpolation, self._SUPPORTED_INTERPOLATION)
        self.fill_mode, self.fill_value, self.interpolation = fill_mode, fill_value, \
            interpolation
        self._make_rng(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training:
            return None
        n = images.shape[0]
        invert = np.where(self._rng.uniform(0, 1, (n, 1)) > 0.5, -1.0, 1.0)
        sy = self._rng.uniform(self.y_factor[0], self.y_factor[1], (n, 1))
        sx = self._rng.uniform(self.x_factor[0], self.x_factor[1], (n, 1))
        return {"shear_factor": (np.concatenate([sx, sy], axis=1) * invert).astype(np.float32),
                "input_shape": images.shape}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        s = np.asarray(transformation["shear_factor"], np.float32)
        n = s.shape[0]
        t = np.stack([np.ones(n), s[:, 0], np.zeros(n), s[:, 1], np.ones(n), np.zeros(n),
                      np.zeros(n), np.zeros(n)], axis=1).astype(np.float32)
        return ops.image.affine_transform(images, t, interpolation=self.interpolation,
                                          fill_mode=self.fill_mode,
                                          fill_value=self.fill_value).numpy()

    def get_config(self):
        config = super().get_config()
        config.update({"x_factor": self.x_factor, "y_factor": self.y_factor,
                       "fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "seed": self.seed, "fill_value": self.fill_value,
                       "data_format": self.data_format})
        return config


class RandomPerspective(_ProbabilityMixin, BaseImagePreprocessingLayer):
    """Moves the four corners of each image by up to ``scale / 2`` of the image size and warps
    it accordingly, with a probability drawn in ``factor`` (``keras.layers.RandomPerspective``).

    Example:

    >>> RandomPerspective(factor=1.0, scale=0.3)(np.random.rand(2, 8, 8, 3)).shape
    (2, 8, 8, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")

    def __init__(self, factor=1.0, scale: float = 1.0, interpolation: str = "bilinear",
                 fill_value: float = 0.0, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        if scale < 0.0 or scale > 1.0:
            raise ValueError(f"RandomPerspective '{self.name}': the `scale` argument should be a "
                             f"number in the range [0,1]. Received: scale={scale}")
        _check_supported(self, "interpolation", interpolation, self._SUPPORTED_INTERPOLATION)
        self.scale, self.fill_value, self.interpolation = scale, fill_value, interpolation
        self._make_rng(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training:
            return None
        n, h, w = images.shape[:3]
        apply = self._apply_mask(n)
        f = self._rng.uniform(-0.5 * self.scale, 0.5 * self.scale, (n, 4, 2)).astype(np.float32)
        start = np.repeat(np.array([[[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]]],
                                   np.float32), n, axis=0)
        return {"apply_perspective": apply, "start_points": start,
                "end_points": start + start * f, "input_shape": images.shape}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        out = ops.image.perspective_transform(
            images, np.asarray(transformation["start_points"], np.float32),
            np.asarray(transformation["end_points"], np.float32),
            interpolation=self.interpolation, fill_value=self.fill_value).numpy()
        return self._where_applied(transformation["apply_perspective"], out, images)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "scale": self.scale,
                       "interpolation": self.interpolation, "fill_value": self.fill_value,
                       "seed": self.seed})
        return config


class RandomElasticTransform(_ProbabilityMixin, BaseImagePreprocessingLayer):
    """Elastic deformation (``ops.image.elastic_transform``) with ``alpha = 0.1 d max(h, w)``
    and ``sigma = 0.05 d min(h, w)`` for a distortion ``d`` drawn in ``scale``, applied with a
    probability drawn in ``factor``, then clipped to ``value_range``
    (``keras.layers.RandomElasticTransform``).

    Example:

    >>> RandomElasticTransform(seed=0)(np.random.rand(2, 16, 16, 3) * 255).shape
    (2, 16, 16, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _SUPPORTED_INTERPOLATION = ("nearest", "bilinear")
    _SUPPORTED_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")

    def __init__(self, factor=1.0, scale=1.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.scale = _unit_pair(self, scale, "scale", False)
        _check_supported(self, "interpolation", interpolation, self._SUPPORTED_INTERPOLATION)
        _check_supported(self, "fill_mode", fill_mode, self._SUPPORTED_FILL_MODES)
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, \
            fill_value
        self.value_range = value_range
        self._make_rng(seed)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training or self.scale[1] == 0 or self.factor[1] == 0:
            return None
        n = images.shape[0]
        apply = self._apply_mask(n)
        d = float(self._rng.uniform(self.scale[0], self.scale[1]))
        return {"apply_transform": apply, "distortion_factor": d,
                "seed": int(self._rng.integers(0, 2 ** 31 - 1))}

    @staticmethod
    def get_elastic_transform_params(height, width, factor):
        return max(height, width) * 0.1 * factor, min(height, width) * 0.05 * factor

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        h, w = images.shape[1:3]
        alpha, sigma = self.get_elastic_transform_params(h, w,
                                                         transformation["distortion_factor"])
        out = ops.image.elastic_transform(images, alpha=alpha, sigma=sigma,
                                          interpolation=self.interpolation,
                                          fill_mode=self.fill_mode, fill_value=self.fill_value,
                                          seed=transformation["seed"]).numpy()
        out = self._where_applied(transformation["apply_transform"], out, images)
        return np.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "scale": self.scale,
                       "interpolation": self.interpolation, "fill_mode": self.fill_mode,
                       "fill_value": self.fill_value, "value_range": self.value_range,
                       "seed": self.seed})
        return config


class RandomGaussianBlur(_ProbabilityMixin, BaseImagePreprocessingLayer):
    """Blurs images with a Gaussian kernel of ``kernel_size`` and a sigma drawn in ``sigma``
    (one per call), each image with a probability drawn in ``factor``
    (``keras.layers.RandomGaussianBlur``), clipped to ``value_range``.

    Example:

    >>> RandomGaussianBlur(factor=(1.0, 1.0))(np.random.rand(2, 8, 8, 3) * 255).shape
    (2, 8, 8, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self._set_factor(factor)
        self.kernel_size = self._odd_pair(kernel_size)
        self.sigma = _unit_pair(self, sigma, "sigma", False)
        self.value_range = value_range
        self._make_rng(seed)

    def _odd_pair(self, k):
        msg = f"RandomGaussianBlur '{self.name}': kernel_size must be an odd number. " \
              f"Received: kernel_size={k}"
        if isinstance(k, (tuple, list)):
            if len(k) != 2 or k[0] % 2 == 0 or k[1] % 2 == 0:
                raise ValueError(msg)
            return tuple(k)
        if isinstance(k, (int, float)):
            if k % 2 == 0:
                raise ValueError(msg)
            return (k, k)
        raise ValueError(msg)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training:
            return None
        n = images.shape[0]
        apply = self._apply_mask(n)
        blur = self._rng.uniform(self.sigma[0], self.sigma[1], 2).astype(np.float32) + 1e-6
        return {"should_apply_blur": apply, "blur_factor": blur}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        out = ops.image.gaussian_blur(images, kernel_size=self.kernel_size,
                                      sigma=np.asarray(transformation["blur_factor"],
                                                       np.float32)).numpy()
        out = self._where_applied(transformation["should_apply_blur"], out, images)
        return np.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "kernel_size": self.kernel_size,
                       "sigma": self.sigma, "value_range": self.value_range,
                       "seed": self.seed})
        return config
