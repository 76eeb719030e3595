"""Augmentation policies with Keras 3's semantics: AugMix and RandAugment, which chain the
image preprocessing layers (shear, translation, rotation, posterization, solarization,
autocontrast, equalization, brightness, colour degeneration, contrast, sharpness)."""
from __future__ import annotations

import math

import numpy as np

from nnforge import ops

from .base_image_preprocessing import BaseImagePreprocessingLayer
from .image_color import (AutoContrast, Equalization, RandomBrightness, RandomColorDegeneration,
                          RandomPosterization, RandomSharpness, Solarization, _Contrast)
from .image_geometry import RandomShear


class _Translation(BaseImagePreprocessingLayer):
    """Keras 3's RandomTranslation step (fractions of the height/width, bilinear, reflect)."""

    _USE_BASE_FACTOR = False

    def __init__(self, factor, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.lower, self.upper = sorted(factor)
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, \
            fill_value
        self._make_rng(None)

    def get_random_transformation(self, images, training=True, seed=None):
        n, h, w = images.shape[:3]
        dh = self._rng.uniform(self.lower, self.upper, (n, 1)) * h
        dw = self._rng.uniform(self.lower, self.upper, (n, 1)) * w
        return {"translations": np.concatenate([dw, dh], axis=1).astype(np.float32)}

    def transform_images(self, images, transformation, training=True):
        t = np.asarray(transformation["translations"], np.float32)
        n = t.shape[0]
        m = np.concatenate([np.ones((n, 1)), np.zeros((n, 1)), -t[:, :1], np.zeros((n, 1)),
                            np.ones((n, 1)), -t[:, 1:], np.zeros((n, 2))], axis=1)
        return ops.image.affine_transform(images, m.astype(np.float32),
                                          interpolation=self.interpolation,
                                          fill_mode=self.fill_mode,
                                          fill_value=self.fill_value).numpy()


class _Rotation(BaseImagePreprocessingLayer):
    """Keras 3's RandomRotation step: an angle in ``factor * 360`` degrees about the centre."""

    def __init__(self, factor, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 **kwargs):
        super().__init__(factor=factor, **kwargs)
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, \
            fill_value
        self._make_rng(None)

    def get_random_transformation(self, images, training=True, seed=None):
        n, h, w = images.shape[:3]
        angle = self._rng.uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, n)
        theta = angle.astype(np.float32) * np.float32(math.pi / 180.0)
        cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
        cos, sin = np.cos(theta), np.sin(theta)
        a0, a1, b0, b1 = cos, -sin, sin, cos
        m = np.stack([a0, a1, cx - cx * a0 - cy * a1, b0, b1, cy - cx * b0 - cy * b1,
                      np.zeros(n), np.zeros(n)], axis=1).astype(np.float32)
        return {"angle": angle, "rotation_matrix": m}

    def transform_images(self, images, transformation, training=True):
        return ops.image.affine_transform(images, transformation["rotation_matrix"],
                                          interpolation=self.interpolation,
                                          fill_mode=self.fill_mode,
                                          fill_value=self.fill_value).numpy()


def _build_ops(owner, factor, value_range, interpolation) -> dict:
    """The named augmentation steps of AugMix / RandAugment, sharing ``owner``'s generator."""
    steps = {
        "random_shear": RandomShear(x_factor=factor, y_factor=factor,
                                    interpolation=interpolation),
        "random_translation": _Translation(factor, interpolation=interpolation),
        "random_rotation": _Rotation(factor, interpolation=interpolation),
        "random_brightness": RandomBrightness(factor=factor, value_range=value_range),
        "random_color_degeneration": RandomColorDegeneration(factor=factor,
                                                             value_range=value_range),
        "random_contrast": _Contrast(factor, value_range=value_range),
        "random_sharpness": RandomSharpness(factor=factor, value_range=value_range),
        "solarization": Solarization(addition_factor=factor, threshold_factor=factor,
                                     value_range=value_range),
        "random_posterization": RandomPosterization(factor=max(1, int(8 * factor[1])),
                                                    value_range=value_range),
        "auto_contrast": AutoContrast(value_range=value_range),
        "equalization": Equalization(value_range=value_range),
    }
    for step in steps.values():
        step._rng = owner._rng
    return steps


class RandAugment(BaseImagePreprocessingLayer):
    """RandAugment (``keras.layers.RandAugment``): ``num_ops`` augmentations picked at random
    from 11 (shear, translation, rotation, brightness, colour degeneration, contrast,
    sharpness, solarization, posterization, autocontrast, equalization), each of magnitude
    ``factor``; one pick per call for the whole batch, as in Keras.

    Args:
        value_range: the range of the input pixels.
        num_ops: how many augmentations to apply in sequence.
        factor: the magnitude, a float in [0, 1] (range ``(0, f)``) or a pair.
        interpolation: "bilinear" (default) or "nearest" for the geometric steps.
        seed: integer seed.

    Example:

    >>> RandAugment(seed=0)(np.random.rand(2, 16, 16, 3) * 255).shape
    (2, 16, 16, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _AUGMENT_LAYERS = ["random_shear", "random_translation", "random_rotation",
                       "random_brightness", "random_color_degeneration", "random_contrast",
                       "random_sharpness", "random_posterization", "solarization",
                       "auto_contrast", "equalization"]

    def __init__(self, value_range=(0, 255), num_ops: int = 2, factor=0.5,
                 interpolation: str = "bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_ops = num_ops
        self._set_factor(factor)
        self.interpolation = interpolation
        self._make_rng(seed)
        self._steps = _build_ops(self, self.factor, value_range, interpolation)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training:
            return None
        idx = self._rng.integers(0, len(self._AUGMENT_LAYERS), self.num_ops)
        transforms = {name: self._steps[name].get_random_transformation(images)
                      for name in self._AUGMENT_LAYERS}
        return {"transforms": transforms, "layer_idxes": idx}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        names = list(transformation["transforms"])
        for i in range(self.num_ops):
            name = names[int(transformation["layer_idxes"][i])]
            images = self._steps[name].transform_images(images,
                                                        transformation["transforms"][name])
        return images.astype(np.float32)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "num_ops": self.num_ops,
                       "factor": self.factor, "interpolation": self.interpolation,
                       "seed": self.seed})
        return config


class AugMix(BaseImagePreprocessingLayer):
    """AugMix (``keras.layers.AugMix``): ``num_chains`` chains of up to ``chain_depth``
    random augmentations, mixed with Dirichlet(alpha) weights, then blended with the original
    by a Beta(alpha, alpha) weight and clipped to ``value_range``.

    Args:
        value_range: the range of the input pixels.
        num_chains: number of augmentation chains.
        chain_depth: maximum augmentations per chain (each step may be skipped).
        factor: the magnitude, a float in [0, 1] (range ``(0, f)``) or a pair.
        alpha: the Dirichlet and Beta parameter.
        all_ops: use all 11 augmentations (else the 7 that do not overlap ImageNet-C's
            corruptions: no brightness, colour, contrast, sharpness).
        interpolation: "bilinear" (default) or "nearest".
        seed: integer seed.

    Example:

    >>> AugMix(seed=0)(np.random.rand(2, 16, 16, 3) * 255).shape
    (2, 16, 16, 3)
    """

    _USE_BASE_FACTOR = False
    _FACTOR_BOUNDS = (0, 1)
    _ALL = ["random_shear", "random_translation", "random_rotation", "random_posterization",
            "solarization", "auto_contrast", "equalization", "random_brightness",
            "random_color_degeneration", "random_contrast", "random_sharpness"]

    def __init__(self, value_range=(0, 255), num_chains: int = 3, chain_depth: int = 3,
                 factor=0.3, alpha: float = 1.0, all_ops: bool = True,
                 interpolation: str = "bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range
        self.num_chains, self.chain_depth = num_chains, chain_depth
        self._set_factor(factor)
        self.alpha, self.all_ops, self.interpolation = alpha, all_ops, interpolation
        self._make_rng(seed)
        self._augment_layers = self._ALL if all_ops else self._ALL[:7]
        self._steps = _build_ops(self, self.factor, value_range, interpolation)

    def get_random_transformation(self, images, training=True, seed=None):
        if not training:
            return None
        gamma = self._rng.gamma(self.alpha, size=self.num_chains)
        weights = (gamma / gamma.sum()).astype(np.float32)
        weight_sample = np.float32(self._rng.beta(self.alpha, self.alpha))
        chains = []
        for _ in range(self.num_chains):
            depth = []
            for _ in range(self.chain_depth):
                pick = int(self._rng.integers(0, len(self._augment_layers) + 1))
                if pick == len(self._augment_layers):
                    continue  # Keras's choice among the layers and None
                name = self._augment_layers[pick]
                depth.append({"layer_name": name,
                              "transformation": self._steps[name].get_random_transformation(
                                  images)})
            chains.append(depth)
        return {"chain_mixing_weights": weights, "weight_sample": weight_sample,
                "chain_transforms": chains}

    def transform_images(self, images, transformation, training=True):
        if not training or transformation is None:
            return images
        weights = transformation["chain_mixing_weights"]
        w = np.float32(transformation["weight_sample"])
        aug = np.zeros_like(images)
        for idx, chain in enumerate(transformation["chain_transforms"]):
            x = images.copy()
            for step in chain:
                x = self._steps[step["layer_name"]].transform_images(x, step["transformation"])
            aug += x * np.float32(weights[idx])
        out = w * images + (1 - w) * aug
        return np.clip(out, self.value_range[0], self.value_range[1]).astype(np.float32)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "num_chains": self.num_chains,
                       "chain_depth": self.chain_depth, "factor": self.factor,
                       "alpha": self.alpha, "all_ops": self.all_ops,
                       "interpolation": self.interpolation, "seed": self.seed})
        return config
